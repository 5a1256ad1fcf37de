#!/usr/bin/env node
/**
 * Write the gettext catalogue template of the `kfjupyter` translation domain.
 *
 *   node tools/i18n_pot.mjs                 write labextension/kfjupyter.pot (`jlpm run i18n:pot`)
 *   node tools/i18n_pot.mjs --check         fail (exit 1) when the committed file differs
 *   --out PATH                              write (or compare) another file
 *   --src DIR, --schemas DIR                read other sources (default labextension/src, /schema)
 *
 * Two sources, as JupyterLab language packs carry them:
 * - the frontend: every `X.__(msgid, ...)`, `X._n(msgid, plural, n, ...)`, `X._p(context, msgid,
 *   ...)` and `X._np(context, msgid, plural, n, ...)` call in `labextension/src/**.ts`, read with the
 *   TypeScript compiler's parser. The strings must be literals; a call with anything else as its
 *   context, msgid or plural is an error (a translator could never see that string).
 * - the settings schemas (`labextension/schema/*.json`): titles, descriptions, menu and toolbar
 *   labels, with the contexts the server translates them with (`schema`, `settings`, `menu`,
 *   `toolbar`).
 *
 * Entries are merged by (context, msgid) in the order first seen (files sorted by path); references
 * name files without line numbers, so moving code does not change the catalogue.
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import ts from 'typescript';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const SOURCES = join(ROOT, 'labextension', 'src');
const SCHEMAS = join(ROOT, 'labextension', 'schema');
const DEFAULT_OUT = join(ROOT, 'labextension', 'kfjupyter.pot');
const DOMAIN = 'kfjupyter';

/** Which arguments of each translation method are (context, msgid, plural). */
const METHODS = {
  __: { context: null, msgid: 0, plural: null },
  _n: { context: null, msgid: 0, plural: 1 },
  _p: { context: 0, msgid: 1, plural: null },
  _np: { context: 0, msgid: 1, plural: 2 }
};

function filesUnder(folder, suffix) {
  return readdirSync(folder, { recursive: true, withFileTypes: true })
    .filter(entry => entry.isFile() && entry.name.endsWith(suffix))
    .map(entry => join(entry.parentPath ?? entry.path, entry.name))
    .sort();
}

class Catalogue {
  constructor() {
    this.entries = new Map();
  }

  add(context, msgid, plural, where) {
    const key = `${context ?? ''}\u0004${msgid}`;
    let entry = this.entries.get(key);
    if (entry === undefined) {
      entry = { context, msgid, plural, where: [] };
      this.entries.set(key, entry);
    } else if (entry.plural !== plural) {
      throw new Error(
        `${where}: "${msgid}" is used both with and without the plural "${plural ?? entry.plural}"`
      );
    }
    if (!entry.where.includes(where)) {
      entry.where.push(where);
    }
  }
}

function literal(node) {
  return node !== undefined &&
    (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node))
    ? node.text
    : null;
}

function extractSource(catalogue, file) {
  const where = relative(ROOT, file).split('\\').join('/');
  const source = ts.createSourceFile(
    file,
    readFileSync(file, 'utf8'),
    ts.ScriptTarget.Latest,
    true
  );
  const problems = [];
  const visit = node => {
    if (
      ts.isCallExpression(node) &&
      ts.isPropertyAccessExpression(node.expression) &&
      Object.hasOwn(METHODS, node.expression.name.text)
    ) {
      const method = METHODS[node.expression.name.text];
      const pick = index => (index === null ? null : literal(node.arguments[index]));
      const [context, msgid, plural] = [
        pick(method.context),
        pick(method.msgid),
        pick(method.plural)
      ];
      if (
        msgid === null ||
        (method.context !== null && context === null) ||
        (method.plural !== null && plural === null)
      ) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart());
        problems.push(`${where}:${line + 1}: ${node.getText()} has no literal string to translate`);
      } else {
        catalogue.add(context, msgid, plural, where);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return problems;
}

/**
 * Where JupyterLab looks up a settings schema's strings, and with which context: JSON paths as
 * regular expressions (list items as `name[i]`), as `jupyterlab_server` translates them, plus the
 * schema's own `jupyter.lab.internationalization.selectors` (context `schema`).
 */
const SCHEMA_SELECTORS = {
  title: 'schema',
  description: 'schema',
  'properties/.*/title': 'settings',
  'properties/.*/description': 'settings',
  'definitions/.*/properties/.*/title': 'settings',
  'definitions/.*/properties/.*/description': 'settings',
  'jupyter\\.lab\\.setting-icon-label': 'settings',
  'jupyter\\.lab\\.menus/.*/label': 'menu',
  'jupyter\\.lab\\.toolbars/.*/label': 'toolbar'
};

function extractSchema(catalogue, file) {
  const where = relative(ROOT, file).split('\\').join('/');
  const schema = JSON.parse(readFileSync(file, 'utf8'));
  const own = schema['jupyter.lab.internationalization']?.selectors ?? [];
  const selectors = Object.entries({
    ...SCHEMA_SELECTORS,
    ...Object.fromEntries(own.map(selector => [selector, 'schema']))
  }).map(([pattern, context]) => [new RegExp(`^/(?:${pattern})$`), context]);
  const walk = (object, prefix) => {
    for (const [key, value] of Object.entries(object)) {
      const path = `${prefix}/${key}`;
      if (typeof value === 'string') {
        const match = selectors.find(([pattern]) => pattern.test(path));
        if (match !== undefined) {
          catalogue.add(match[1], value, null, where);
        }
      } else if (Array.isArray(value)) {
        value.forEach((item, i) => {
          if (typeof item === 'object' && item !== null && !Array.isArray(item)) {
            walk(item, `${path}[${i}]`);
          }
        });
      } else if (typeof value === 'object' && value !== null) {
        walk(value, path);
      }
    }
  };
  walk(schema, '');
}

function quote(text) {
  const escaped = text
    .replace(/\\/g, '\\\\')
    .replace(/"/g, '\\"')
    .replace(/\t/g, '\\t')
    .replace(/\r/g, '\\r');
  const lines = escaped.split('\n');
  if (lines.length === 1) {
    return `"${escaped}"`;
  }
  const parts = lines.map((line, i) => (i < lines.length - 1 ? `${line}\\n` : line));
  return ['""', ...parts.filter(part => part !== '').map(part => `"${part}"`)].join('\n');
}

function render(catalogue) {
  const out = [
    `# Translation template of the ${DOMAIN} JupyterLab extension.`,
    '# Generated by tools/i18n_pot.mjs (`jlpm run i18n:pot`); do not edit.',
    '#',
    '#, fuzzy',
    'msgid ""',
    'msgstr ""',
    `"Project-Id-Version: ${DOMAIN}\\n"`,
    '"MIME-Version: 1.0\\n"',
    '"Content-Type: text/plain; charset=UTF-8\\n"',
    '"Content-Transfer-Encoding: 8bit\\n"',
    ''
  ];
  for (const entry of catalogue.entries.values()) {
    out.push(`#: ${entry.where.join(' ')}`);
    if (entry.context !== null) {
      out.push(`msgctxt ${quote(entry.context)}`);
    }
    out.push(`msgid ${quote(entry.msgid)}`);
    if (entry.plural !== null) {
      out.push(`msgid_plural ${quote(entry.plural)}`, 'msgstr[0] ""', 'msgstr[1] ""');
    } else {
      out.push('msgstr ""');
    }
    out.push('');
  }
  return out.join('\n');
}

function main() {
  const { values } = parseArgs({
    options: {
      check: { type: 'boolean', default: false },
      out: { type: 'string' },
      src: { type: 'string' },
      schemas: { type: 'string' }
    }
  });
  const out = resolve(values.out ?? DEFAULT_OUT);
  const catalogue = new Catalogue();
  const problems = filesUnder(resolve(values.src ?? SOURCES), '.ts').flatMap(file =>
    extractSource(catalogue, file)
  );
  if (problems.length > 0) {
    console.error(problems.join('\n'));
    process.exit(1);
  }
  for (const file of filesUnder(resolve(values.schemas ?? SCHEMAS), '.json')) {
    extractSchema(catalogue, file);
  }
  const text = render(catalogue);
  if (values.check) {
    let committed = '';
    try {
      committed = readFileSync(out, 'utf8');
    } catch {
      // a missing file differs
    }
    if (committed !== text) {
      console.error(`${relative(ROOT, out)} is out of date: run \`jlpm run i18n:pot\``);
      process.exit(1);
    }
    return;
  }
  writeFileSync(out, text);
  console.log(`${relative(ROOT, out)}: ${catalogue.entries.size} messages`);
}

main();
