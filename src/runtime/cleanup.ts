// Undo in reverse: each step of create that leaves something behind pushes how to take it
// back, and a failure anywhere runs them all, so a failed create leaves nothing.
import { logger } from '../log.js';
import { messageOf } from '../errors.js';

export class Cleanup {
  private steps: Array<{ what: string; undo: () => void | Promise<void> }> = [];

  push(what: string, undo: () => void | Promise<void>): void {
    this.steps.push({ what, undo });
  }

  /** Forget everything: the work is kept. */
  release(): void {
    this.steps = [];
  }

  async run(): Promise<void> {
    for (const { what, undo } of this.steps.reverse()) {
      try {
        await undo();
      } catch (err) {
        logger.warn(`cleanup: ${what}: ${messageOf(err)}`);
      }
    }
    this.steps = [];
  }
}
