/**
 * What the launch dialogs derive from the generated REST types (`generated/restTypes.ts`).
 */
import { ITrainingRequest } from './generated/restTypes';

/** A training backend the server can pick from; `auto` lets it choose. */
export type TrainingBackend = NonNullable<ITrainingRequest['backend']>;

/** The training backends, in the order the dialog offers them. */
export const TRAINING_BACKENDS: readonly TrainingBackend[] = ['local', 'kubernetes', 'auto'];
