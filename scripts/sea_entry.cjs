// Entry of the single-executable bundle: offers the bundled raw-socket lazily, then runs main.
globalThis.__tandemBundledRawSocket = () => require("raw-socket");
require("../src/main.ts");
