// %[fetch,converter] values: what haproxy 2.6 gives for the same expressions (checked with it).

import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { HeadParser } from "../../../src/proxy/http/parser.ts";
import { compileFormat } from "../../../src/proxy/http/sample.ts";
import { envFor } from "../../helpers/request_env.ts";

const req = (head: string) => new HeadParser("request", { requestLine: 8192, headerBytes: 16384, headerCount: 100 }).push(Buffer.from(head + "\r\n\r\n", "latin1"))!;

describe("compileFormat", () => {
  const r = req("GET /api/v1/x?q=1&b=two HTTP/1.1\r\nHost: 127.0.0.1:9222\r\nX-List: a, b\r\nX-List: c\r\nCookie: s=1; SRV=abc");
  const env = envFor("127.0.0.7", { dstPort: 9222 });
  const f = (t: string) => compileFormat(t, "test")(r, env);

  it("fetches: src, dst_port, headers, path, query", () => {
    assert.equal(f("%[src] %[dst_port] %[req.hdr(host)] %[path] %[query] [%[req.hdr(x-none)]]"), "127.0.0.7 9222 127.0.0.1:9222 /api/v1/x q=1&b=two []");
    assert.equal(f("%[hdr(x-list)]|%[hdr(x-list,1)]|%[fhdr(x-list,1)]"), "c|a|a, b");
    assert.equal(f("%[req.cook(SRV)] %[url_param(b)] %[method] %[url]"), "abc two GET /api/v1/x?q=1&b=two");
  });

  it("converters: regsub (first match, g, back-references), lower/upper", () => {
    assert.equal(f("%[path,regsub(^/api/,/)]"), "/v1/x");
    assert.equal(f("%[path,regsub(/,_,g)]"), "_api_v1_x");
    assert.equal(f("%[path,regsub(^/(api)/(v1),/\\2/\\1)]"), "/v1/api/x");
    assert.equal(f("%[hdr(host),upper]%[str(ABC),lower]"), "127.0.0.1:9222abc");
  });

  it("text without %[ is literal; %% escapes inside a format", () => {
    assert.equal(f("100% literal"), "100% literal");
    assert.equal(f("%%[src] is %[src]"), "%[src] is 127.0.0.7");
  });

  it("reports what it cannot compile", () => {
    assert.throws(() => compileFormat("%[nope]", "F"), /F: the sample fetch "nope" is not supported/);
    assert.throws(() => compileFormat("%[path,frob]", "F"), /the converter "frob" is not supported/);
    assert.throws(() => compileFormat("%[path", "F"), /without its "\]"/);
    assert.throws(() => compileFormat("%[path,regsub([,x)]", "F"), /invalid regular expression/);
    assert.throws(() => compileFormat("%[path,regsub(()]", "F"), /without its "\]"/);
  });
});
