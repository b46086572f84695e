// What the other subsystems hand to the notifier.

/** A message handed to the notifier (spooled before any delivery attempt). */
export interface OutgoingMessage {
  subject: string;
  text: string;
  /** Event or rule that produced it. */
  source: string;
}
