/**
 * The cache control of the property inspector's "Kubeflow step" form, worded like the step
 * dialog's: "Cache" with Default (no setting), "Reuse cached outputs" (true) and "Always run"
 * (false). The form draws the boolean as a select (`schema/notebook-steps.json`) whose "no
 * value" choice JupyterLab's form library leaves without a label; this names it "Default" (in the
 * user's language when a label is given).
 */

/** The inspector's cache select (its id ends with the metadata path). */
const CACHE_SELECT = 'select[id$="/kfjupyter/cache"]';

/** The label of the choice that writes no setting, as the step dialog shows it. */
export const DEFAULT_LABEL = 'Default';

function nameDefaultChoices(root: ParentNode, label: string): void {
  for (const select of Array.from(root.querySelectorAll<HTMLSelectElement>(CACHE_SELECT))) {
    const empty = select.querySelector<HTMLOptionElement>('option[value=""]');
    if (empty !== null && empty.textContent === '') {
      empty.textContent = label;
    }
  }
}

/**
 * Keep the inspector's cache select worded as the step dialog, whenever the form is drawn; only
 * the property inspector is watched. Resolves once it watches (never when there is no inspector).
 */
export async function nameCacheDefault(
  restored: Promise<void>,
  label = DEFAULT_LABEL
): Promise<MutationObserver | null> {
  await restored;
  const inspector = document.getElementById('jp-property-inspector');
  if (inspector === null) {
    return null;
  }
  nameDefaultChoices(inspector, label);
  const observer = new MutationObserver(() => nameDefaultChoices(inspector, label));
  observer.observe(inspector, { childList: true, subtree: true });
  return observer;
}
