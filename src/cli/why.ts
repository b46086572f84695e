// `tandem why [--config F | --socket PATH]`: asks the running daemon why the VIP is where it is.

import { runCtl } from "./ctl.ts";

export const WHY_USAGE = `Usage: tandem why [--config FILE | --socket PATH]
  Asks the running tandem (over global.admin_socket) why the VIP is where it is: priorities with
  every tracked weight, the last adverts heard, proxy health, preemption, the peer's view.`;

type Write = (s: string) => void;

/** Runs `tandem why`: argv is what follows "why" (the same options as tandem ctl). Exit codes as tandem ctl. */
export function runWhy(argv: string[], out: Write, err: Write): Promise<number> {
  if (argv.includes("--help") || argv.includes("-h")) {
    out(WHY_USAGE);
    return Promise.resolve(0);
  }
  return runCtl([...argv, "why"], out, err);
}
