import confirm from '@inquirer/confirm';
import select from '@inquirer/select';
import type { Step } from '../model.ts';
import type { Interaction } from './engine.ts';

/** Prompts for a person at a terminal. Never constructed without a TTY, so CI can never hang on a question. */
export function terminalInteraction(): Interaction {
  return {
    interactive: true,
    async confirm(step: Step) {
      return confirm({ message: `Run step ${step.id} (${step.title})?`, default: false });
    },
    async manual(step: Step) {
      return select({
        message: `Operator action for ${step.id}: done?`,
        choices: [
          { name: 'Done: I did it, verify it', value: 'done' as const },
          { name: 'Automate: run the block instead', value: 'automate' as const },
          { name: 'Abort the run (rolls back)', value: 'abort' as const },
        ],
      });
    },
  };
}
