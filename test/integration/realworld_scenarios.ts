// The requests sent to each real-world haproxy.cfg (and to ours) by realworld_diff_test.ts.

import { execFileSync } from "node:child_process";
import type { LabRequest, Reply } from "../helpers/haproxy_lab.ts";

export interface Scenario {
  /** A file of ../shared/realworld, or a name for `text`. */
  file: string;
  /** Our own config (instead of reading file). */
  text?: string;
  requests: (LabRequest & { long?: boolean })[];
  /** What the recording servers answer per path. */
  reply?: Reply;
  env?: Record<string, string>;
  /** ms to wait after start before the requests, in the long variant (health checks). */
  settle?: number;
}

/** Paths the recorders answer specially, for the response rules and cookies of the files. */
const reply: Reply = (path) => {
  if (path.endsWith("/redir-backups")) return { status: 302, headers: [["Location", "http://backups/after/login"]] };
  if (path.endsWith("/redir-blog")) return { status: 302, headers: [["Location", "http://blog/2024/post"]] };
  if (path.endsWith("/redir-frontend")) return { status: 301, headers: [["Location", "http://frontend/home"]] };
  if (path.endsWith("/cacheable")) return { headers: [["Cache-Control", "public, max-age=60"]] };
  if (path.endsWith("/setck")) return { headers: [["Set-Cookie", "SRVID=app1; path=/"]] };
  if (path.endsWith("/e404")) return { status: 404 };
  if (path.endsWith("/server")) return { headers: [["Server", "nginx/1.22"]] };
  return undefined;
};

const get = (to: string, path = "/", headers: string[] = [], more: Partial<LabRequest> = {}): LabRequest => ({ to, path, headers, ...more });
const tcp = (to: string): LabRequest => ({ to, tcp: true });
const basic = (user: string, pw: string) => `Authorization: Basic ${Buffer.from(`${user}:${pw}`).toString("base64")}`;

export const SCENARIOS: Scenario[] = [
  {
    file: "haproxy-7layer.cfg",
    reply,
    requests: [
      get("192.168.1.210:80", "/"),
      get("192.168.1.210:80", "/app/x?y=1", ["X-Forwarded-For: 10.9.9.9"]),
      get("192.168.1.210:80", "/stats"),
      get("192.168.1.210:80", "/stats", [basic("haproxy", "wrong")]),
      get("192.168.1.210:80", "/stats", [basic("haproxy", "123456")]),
      get("192.168.1.210:80", "/", ["Cookie: webpool=web02"]),
      tcp("192.168.1.210:25"),
    ],
  },
  {
    file: "haproxy-basic-auth-vumdao.cfg",
    reply,
    requests: [
      get("*:443", "/", ["Host: haproxy-report.cloudopz.co"], { tls: true }),
      get("*:443", "/", ["Host: haproxy-report.cloudopz.co", basic("haproxyreport", "secret")], { tls: true }),
      get("*:443", "/report", ["Host: haproxy-report.cloudopz.co"], { tls: true, from: "18.69.61.21" }),
      get("*:443", "/", ["Host: other.example"], { tls: true }),
      get("*:443", "/", ["Host: HAPROXY-REPORT.cloudopz.co"], { tls: true }),
    ],
  },
  {
    file: "haproxy-content-sw-sample.cfg",
    reply,
    requests: [
      get("192.168.1.10:80", "/monitoruri"),
      get("192.168.1.10:80", "/monitoruri?x=1"),
      get("192.168.1.10:80", "/admin/stats"),
      get("192.168.1.10:80", "/admin/stats;csv"),
      get("192.168.1.10:80", "/a.png", ["Host: img.example.com"]),
      get("192.168.1.10:80", "/a.png", ["Host: IMG.example.com"]),
      get("192.168.1.10:80", "/img/logo.png"),
      get("192.168.1.10:80", "/css/site.css"),
      get("192.168.1.10:80", "/login.php", [], { server: true }),
      get("192.168.1.10:80", "/cacheable", ["Cookie: DYNSRV=s3; lang=fr"], { server: true }),
      get("192.168.1.10:80", "/cacheable", ["Cookie: DYNSRV=zz"]),
      get("192.168.1.10:80", "/page", ["Cookie: a=1; DYNSRV=s2; b=2"], { server: true }),
    ],
  },
  {
    file: "haproxy-couchdb-minihosting.cfg",
    reply,
    env: { COUCHDB_PATH: "/couch" },
    requests: [
      get(":80", "/db?x=1"),
      get(":80", "/.well-known/acme-challenge/t"),
      get(":443", "/.well-known/acme-challenge/t", [], { tls: true }),
      get(":443", "/", [], { tls: true }),
      get(":443", "/couch/mydb/doc1?rev=2", [], { tls: true }),
      get(":443", "/couch", [], { tls: true }),
      get(":443", "/couch/_utils", [], { tls: true }),
      get(":443", "/couch/_utils/", [], { tls: true }),
      get(":443", "/couchdb", [], { tls: true }),
    ],
  },
  {
    file: "haproxy-fedora-cloud.cfg",
    reply,
    requests: ["0.0.0.0:9696", "0.0.0.0:8776", "0.0.0.0:8080", "0.0.0.0:8774", "0.0.0.0:8777", "0.0.0.0:8773", "0.0.0.0:9292"].map((to) => get(to, "/v2/x", [], { tls: true })),
  },
  {
    file: "haproxy-kazoo.cfg",
    reply,
    requests: [
      get("127.0.0.1:15984", "/db/_all_docs", [], { server: true }),
      get("127.0.0.1:15984", "/db/_all_docs", [], { server: true }),
      get("127.0.0.1:15986", "/_node", ["X-Forwarded-For: 192.0.2.1"]),
      get("127.0.0.1:22002", "/"),
    ],
  },
  {
    file: "haproxy-kubeadm-multimaster.cfg",
    reply,
    requests: [tcp("0.0.0.0:6443"), tcp("0.0.0.0:6443"), get("*:8085", "/")],
  },
  {
    file: "haproxy-moodle-moot15.cfg",
    reply,
    requests: [
      get("192.51.100.40:80", "/course/view.php?id=3", ["Host: moodle.example.edu"]),
      get("192.51.100.40:80", "/", ["Host: MOODLE.Example.EDU"]),
      get("192.51.100.40:80", "/", ["Host: moodle.example.edu:80"]),
      get("192.51.100.40:80", "/", ["Host: other.example.edu"]),
    ],
  },
  {
    file: "haproxy-nextcloud-88nex.cfg",
    reply,
    requests: [
      get("*:80", "/index.php?x=1"),
      get("*:443", "/status.php", [], { tls: true }),
      get("*:443", "/remote.php/dav", ["X-Forwarded-Proto: http"], { tls: true, method: "PROPFIND" }),
      tcp("*:5433"),
    ],
  },
  {
    file: "haproxy-openculinary.cfg",
    reply,
    requests: [
      get("*:80", "/"),
      get("*:80", "/recipes?q=soup"),
      get("*:443", "/", [], { tls: true }),
      get("*:80", "/", ["Host: backups.reciperadar.com"]),
      get("*:80", "/redir-backups", ["Host: backups.reciperadar.com"]),
      get("*:80", "/x", ["Host: blog.reciperadar.com"]),
      get("*:80", "/redir-blog", ["Host: blog.reciperadar.com"]),
      get("*:80", "/api/recipes/search?q=1"),
      get("*:80", "/api"),
      get("*:80", "/diagnostics/recipe/1"),
      get("*:80", "/diagnostics/index.html"),
      get("*:80", "/statistics/searches.csv", [], { body: true }),
      get("*:80", "/redir-frontend"),
      get("*:80", "/server"),
    ],
  },
  {
    file: "haproxy-patroni-bivdc.cfg",
    reply,
    // Long: the replicas' /leader checks must fail 3 times 3 s apart before writes go to the leader only.
    settle: 11_000,
    requests: [get("*:7000", "/"), get("*:80", "/api/items"), get("*:80", "/api/items", ["Host: web.example"]), { ...tcp("*:5000"), long: true, server: true, repeat: 3 }, { ...tcp("*:5001"), long: true, server: true, repeat: 2 }],
  },
  {
    file: "haproxy-rancher-lookingspiffy.cfg",
    reply,
    requests: [tcp("*:6443"), tcp("*:80"), tcp("*:443"), get("*:1936", "/stats"), get("*:1936", "/stats", [basic("admin", "<ADMIN_PWD>")])],
  },
  {
    file: "haproxy-ratelimit-lxgzmy.cfg",
    reply,
    requests: [{ ...get("*:80", "/x"), repeat: 13 }, get("*:80", "/x", [], { from: "127.0.0.9" })],
  },
  {
    file: "haproxy-rhel-default-dmz.cfg",
    reply,
    requests: [get("0.0.0.0:80", "/"), get("0.0.0.0:80", "/static/app.js"), get("0.0.0.0:80", "/IMAGES/a.JPG"), get("0.0.0.0:80", "/x", ["X-Forwarded-For: 1.2.3.4"])],
  },
];

const hash = (flag: string, pw: string) => execFileSync("openssl", ["passwd", flag, "-salt", "labsalt1", pw], { encoding: "utf8" }).trim();

/** Our own file: what the real ones use too little of (persistence modes, userlists, counters, rewrites). */
const OWN = `global
    maxconn 500
userlist team
    group admins users alice
    group devs
    user alice password ${hash("-6", "wonderland")}
    user bob password ${hash("-5", "builder")} groups devs
    user carol password ${hash("-1", "singer")}
    user dave insecure-password plain
defaults
    mode http
    timeout connect 2s
    timeout client 10s
    timeout server 10s
    timeout tarpit 1s
frontend www
    bind 127.0.0.1:8001
    monitor-uri /healthz
    stick-table type ip size 1k expire 30s store http_req_rate(10s),http_err_rate(10s),conn_cur
    http-request track-sc0 src
    acl ok_user http_auth(team)
    acl is_admin http_auth_group(team) admins
    acl api_host hdr(host) -i api.example:8001
    http-request deny deny_status 429 if { sc_http_err_rate(0) gt 2 }
    http-request auth realm Team if { path_beg /private } !ok_user
    http-request deny if { path_beg /private/admin } !is_admin
    http-request tarpit if { path /slowdown }
    http-request redirect prefix https://new.example drop-query if { path_beg /old }
    http-request set-header X-Client "%[src]:%[dst_port] %[req.hdr(user-agent),lower]"
    http-request set-path "%[path,regsub(^/v1/,/api/)]"
    http-request replace-path /legacy/(.*)/page /pages/\\1
    use_backend api if api_host
    use_backend insert if { path_beg /insert }
    use_backend prefix if { path_beg /prefix }
    use_backend rewrite if { path_beg /rewrite }
    default_backend app
backend app
    http-request set-header X-Env "\${LAB_ENV-prod}"
    server a1 127.0.0.1:9001
backend api
    acl writes method POST PUT DELETE
    http-request allow if !writes
    http-request auth realm API if !{ http_auth(team) }
    server p1 127.0.0.1:9002
backend insert
    cookie SRV insert indirect nocache httponly
    server i1 127.0.0.1:9003 cookie one
    server i2 127.0.0.1:9004 cookie two
backend prefix
    cookie SRVID prefix
    server x1 127.0.0.1:9005 cookie p1
    server x2 127.0.0.1:9006 cookie p2
backend rewrite
    cookie SRVID rewrite
    server r1 127.0.0.1:9007 cookie w1
    server r2 127.0.0.1:9008 cookie w2
`;

const W = "127.0.0.1:8001";
SCENARIOS.push({
  file: "own-features.cfg",
  text: OWN,
  reply,
  env: { LAB_ENV: "lab" },
  requests: [
    get(W, "/healthz"),
    get(W, "/"),
    get(W, "/v1/users?page=2", ["User-Agent: Lab/1.0"]),
    get(W, "/legacy/about/page?x=1"),
    get(W, "/old/thing?x=1"),
    get(W, "/private/a", [], { from: "127.0.0.41" }),
    get(W, "/private/a", [basic("alice", "wonderland")]),
    get(W, "/private/a", [basic("bob", "builder")]),
    get(W, "/private/a", [basic("carol", "singer")]),
    get(W, "/private/a", [basic("dave", "plain")]),
    get(W, "/private/a", [basic("alice", "nope")], { from: "127.0.0.42" }),
    get(W, "/private/admin/x", [basic("bob", "builder")], { from: "127.0.0.43" }),
    get(W, "/private/admin/x", [basic("alice", "wonderland")]),
    get(W, "/x", ["Host: api.example:8001"]),
    get(W, "/x", ["Host: API.EXAMPLE:8001"]),
    get(W, "/x", ["Host: api.example"]),
    get(W, "/x", ["Host: api.example:8001"], { method: "POST", from: "127.0.0.44" }),
    get(W, "/x", ["Host: api.example:8001", basic("dave", "plain")], { method: "POST" }),
    get(W, "/insert", [], { server: true }),
    get(W, "/insert/cacheable", ["Cookie: SRV=two"], { server: true }),
    get(W, "/insert/cacheable", ["Cookie: SRV=bogus; k=v"]),
    get(W, "/prefix/setck", [], { server: true }),
    get(W, "/prefix/x", ["Cookie: SRVID=p2~app7; z=1"], { server: true }),
    get(W, "/rewrite/setck", [], { server: true }),
    get(W, "/rewrite/x", ["Cookie: SRVID=w2"], { server: true }),
    { ...get(W, "/slowdown"), long: true },
    { ...get(W, "/e404", [], { from: "127.0.0.33" }), repeat: 4 },
  ],
});
