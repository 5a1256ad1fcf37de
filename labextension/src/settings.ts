/**
 * The user's preferences for the extension, read from JupyterLab's settings registry (schema:
 * `labextension/schema/settings.json`, plugin `kfjupyter:settings`). `KubeflowSettings` holds the
 * current values and signals every change, so the Run dialog, the Compile dialog, the runs list
 * and the "a run started" step follow the Settings Editor without a reload. Without a settings
 * registry (or when it fails to load) the defaults apply.
 */
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { Token } from '@lumino/coreutils';
import { ISignal, Signal } from '@lumino/signaling';

import { isObject } from './validate';

/** The settings plugin; its schema is `schema/settings.json`. */
export const SETTINGS_PLUGIN = 'kfjupyter:settings';

/** Where "Run as Pipeline" runs by default. */
export type DefaultBackend = 'local' | 'kfp';

/** The preferences, as the schema declares them. */
export interface IPreferences {
  /** The backend the Run dialog preselects (Kubeflow Pipelines only when the server has it). */
  readonly defaultBackend: DefaultBackend;
  /** Whether the Run and Re-run dialogs start with "run every step" checked. */
  readonly runEveryStep: boolean;
  /** Whether a run's detail opens as soon as it starts (else a notification says it started). */
  readonly openRunOnStart: boolean;
  /** Seconds between two refreshes of the runs list. */
  readonly runsRefreshSeconds: number;
  /** The image the Compile dialog offers when the server has no default; '' for none. */
  readonly compileImage: string;
}

export const DEFAULT_PREFERENCES: IPreferences = {
  defaultBackend: 'local',
  runEveryStep: false,
  openRunOnStart: true,
  runsRefreshSeconds: 3,
  compileImage: ''
};

/** The bounds of `runsRefreshSeconds` (as in the schema). */
const REFRESH_BOUNDS = [1, 600] as const;

/**
 * The preferences in `composite` (the registry's merged user + default values); a value of the
 * wrong type or out of bounds falls back to its default.
 */
export function readPreferences(composite: unknown): IPreferences {
  const raw = isObject(composite) ? composite : {};
  const pick = <K extends keyof IPreferences>(
    key: K,
    ok: (value: unknown) => value is IPreferences[K]
  ): IPreferences[K] => {
    const value = raw[key];
    return ok(value) ? value : DEFAULT_PREFERENCES[key];
  };
  const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean';
  return {
    defaultBackend: pick(
      'defaultBackend',
      (value): value is DefaultBackend => value === 'local' || value === 'kfp'
    ),
    runEveryStep: pick('runEveryStep', isBoolean),
    openRunOnStart: pick('openRunOnStart', isBoolean),
    runsRefreshSeconds: pick(
      'runsRefreshSeconds',
      (value): value is number =>
        typeof value === 'number' && value >= REFRESH_BOUNDS[0] && value <= REFRESH_BOUNDS[1]
    ),
    compileImage: pick('compileImage', (value): value is string => typeof value === 'string').trim()
  };
}

/** The current preferences, and a signal when they change. */
export class KubeflowSettings {
  constructor(values: IPreferences = DEFAULT_PREFERENCES) {
    this._values = values;
  }

  /** The preferences now. */
  get values(): IPreferences {
    return this._values;
  }

  /** Emitted with the new preferences after the user changed them. */
  get changed(): ISignal<this, IPreferences> {
    return this._changed;
  }

  /** Follow `settings`: take its values now and on every change. */
  follow(settings: ISettingRegistry.ISettings): void {
    const update = (): void => {
      const next = readPreferences(settings.composite);
      if (JSON.stringify(next) !== JSON.stringify(this._values)) {
        this._values = next;
        this._changed.emit(next);
      }
    };
    settings.changed.connect(update);
    update();
  }

  private _values: IPreferences;
  private readonly _changed = new Signal<this, IPreferences>(this);
}

/** The extension's preferences, provided by the `kfjupyter:settings` plugin. */
export const IKubeflowSettings = new Token<KubeflowSettings>(
  'kfjupyter:IKubeflowSettings',
  "The user's Kubeflow preferences from the settings registry."
);
