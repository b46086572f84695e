// The kernel's choice of source address toward a destination (the default BGP router ID).

import { test } from "node:test";
import assert from "node:assert/strict";
import { sourceAddressFor } from "../../src/runtime/route_source.ts";

test("the source toward loopback is loopback (Deno's node:dgram does not report it: undefined, so bgp.router_id is needed there); no address gives undefined", async () => {
  assert.equal(await sourceAddressFor("127.0.0.1"), "Deno" in globalThis ? undefined : "127.0.0.1");
  assert.equal(await sourceAddressFor("not-an-address"), undefined);
});
