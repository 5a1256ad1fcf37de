/**
 * Identifiers shared by the extension's modules: command ids (widgets execute them, `commands.ts`
 * registers them).
 */

export const CommandIDs = {
  refresh: 'kfjupyter:refresh',
  runNotebook: 'kfjupyter:run-notebook',
  openRun: 'kfjupyter:open-run',
  compareRuns: 'kfjupyter:compare-runs',
  cancelRun: 'kfjupyter:cancel-run',
  markStep: 'kfjupyter:mark-step',
  setCellKind: 'kfjupyter:set-cell-kind',
  runAsPipeline: 'kfjupyter:run-as-pipeline',
  rerunRun: 'kfjupyter:rerun-run',
  rerunFromStep: 'kfjupyter:rerun-from-step',
  loadStepInputs: 'kfjupyter:load-step-inputs',
  deleteRun: 'kfjupyter:delete-run',
  train: 'kfjupyter:train',
  compileNotebook: 'kfjupyter:compile-notebook',
  focusRuns: 'kfjupyter:focus-runs'
} as const;
