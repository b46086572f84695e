// Test helper: the smtp-server fixture on HOST:PORT (inside `ip netns exec`); prints every mail as a JSON line.
// Usage: node test/integration/smtp_child.ts HOST PORT

import { decodedBody, decodedSubject, startSmtp } from "../notify/smtp_fixture.ts";

const [host, port] = process.argv.slice(2);
const smtp = await startSmtp({ host, port: Number(port) });
let printed = 0;
setInterval(() => {
  for (; printed < smtp.mails.length; printed++) {
    const m = smtp.mails[printed];
    process.stdout.write(JSON.stringify({ mail: printed + 1, subject: decodedSubject(m.raw), body: decodedBody(m.raw), from: m.from, to: m.to }) + "\n");
  }
}, 20);
process.stdout.write(JSON.stringify({ listening: `${host}:${smtp.port}` }) + "\n");
process.on("SIGTERM", () => smtp.close().then(() => process.exit(0)));
