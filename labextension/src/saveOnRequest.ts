/**
 * Save on request: `%kf run` in a notebook asks the front end to save that notebook first, so the
 * run uses the cells the user sees, not the file as last saved.
 *
 * The kernel opens a comm to the `kfjupyter.save` target with `{request: 'save'}` (or
 * `{request: 'hello'}` when the extension is loaded, to learn that a front end answers). Every
 * notebook panel registers the target on its kernel; on a save request it saves its document and
 * replies `{saved: true}` (or `{saved: false, error}`), then closes the comm. The kernel waits for
 * the file to change on disk: it cannot read replies while the cell that asked is still running.
 */
import { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';
import { Kernel, KernelMessage } from '@jupyterlab/services';

/** The comm target the kernel side (`kfjupyter.ipython.save_first`) opens. */
export const SAVE_TARGET = 'kfjupyter.save';

interface ISaveRequest {
  request?: unknown;
}

function answer(panel: NotebookPanel) {
  return (comm: Kernel.IComm, msg: KernelMessage.ICommOpenMsg): void => {
    const request = (msg.content.data as ISaveRequest).request;
    if (request === 'hello') {
      comm.send({ hello: 'kfjupyter' });
      comm.close();
      return;
    }
    if (request !== 'save') {
      comm.close();
      return;
    }
    panel.context
      .save()
      .then(() => {
        comm.send({ saved: true, path: panel.context.path });
      })
      .catch((error: unknown) => {
        comm.send({ saved: false, error: String(error) });
      })
      .finally(() => {
        comm.close();
      });
  };
}

function watch(panel: NotebookPanel): void {
  const register = (): void => {
    const kernel = panel.sessionContext.session?.kernel;
    if (kernel) {
      kernel.registerCommTarget(SAVE_TARGET, answer(panel));
    }
  };
  panel.sessionContext.kernelChanged.connect(register);
  void panel.sessionContext.ready.then(register);
}

/** Answer `%kf run`'s save requests for every open notebook, now and later. */
export function answerSaveRequests(tracker: INotebookTracker): void {
  tracker.widgetAdded.connect((_, panel) => watch(panel));
  tracker.forEach(panel => watch(panel));
}
