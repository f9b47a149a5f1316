// SPDX-License-Identifier: MIT
// Public exports of the training utilities (fit, evaluate, metrics, progress, saved models); no code of its own.
export {
  fit,
  type EpochRecord,
  type FitOptimizer,
  type FitOptions,
  type FitPosition,
  type FitProgressReporter,
  type History,
} from './trainer';
export { formatEpochLine } from './fit-progress';
export { writeJsonAtomic } from '../io/atomic-file';
export { evaluate, type BatchSource, type EvaluateOptions, type EvaluateResult, type LossFunction } from './evaluate';
export { argmaxRows, ConfusionMatrix, RunningMean, ThroughputMeter } from './metrics';
export {
  createProgress,
  type BatchProgress,
  type ProgressMode,
  type ProgressOptions,
  type ProgressReporter,
  type ProgressStream,
} from './progress';
export { loadModel, modelMetadata, modelShapes, saveModel, type SavableModel } from './saved-model';
export {
  saveCheckpoint,
  readCheckpoint,
  restoreCheckpoint,
  checkpointPath,
  CHECKPOINT_FILE,
  type Checkpoint,
  type CheckpointSettings,
  type TrainingState,
} from './checkpoint';
