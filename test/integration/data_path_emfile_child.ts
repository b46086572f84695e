// Child of data_path_emfile_test.ts: a listener on the fd data path in a process with few file
// descriptors. Prints "port N" once listening, "accepted N" per connection, "error CODE" per
// listener error; a connection is closed when its peer closes it.

import { ffiTransport } from "../../src/runtime/ffi_transport.ts";

let accepted = 0;
const l = await ffiTransport().listen({ host: "127.0.0.1", port: 0, backlog: 128, acceptors: 1, reusePort: false }, {
  connection(conn) {
    process.stdout.write(`accepted ${++accepted}\n`);
    conn.on("data", () => {});
    conn.on("end", () => conn.destroy());
    conn.on("error", () => {});
    conn.resume();
  },
  readers: () => false,
  error: (err) => process.stdout.write(`error ${(err as Error & { code?: string }).code}\n`),
});
process.stdout.write(`port ${l.port}\n`);
process.on("disconnect", () => process.exit(0));
