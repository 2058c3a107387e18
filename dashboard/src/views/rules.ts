// The rules and pipelines view (#/rules): each rule's statement, actions and counters, each
// pipeline's backlog, output, errors and per-activity counts, refreshed every 5 s while shown; and
// a form that runs a statement against one message through POST /api/rules/test.
//
// DOM hooks for the browser tests: `tr[data-rule-name]` and `tr[data-pipeline-name]` with cells
// `td[data-field=...]` (matched, fired, failed, actionsFailed; backlog, rowsOut, writeErrors,
// lastError), `li[data-activity]` with data-in/data-out/data-dropped/data-errors, the form
// `[data-testid="rule-test-form"]` (fields #rule-test-rule, #rule-test-sql, #rule-test-version,
// #rule-test-topic, #rule-test-payload), the answer `[data-testid="rule-test-result"][data-matched]
// [data-fired]` with `[data-testid="rule-test-output"]`, errors `[data-testid="rule-test-error"]`
// and `[data-testid="rules-error"]` (role=alert).

import type { PipelineStatus, PipelineStatusBody, RuleStatus, RuleStatusBody } from '../../../broker/contract.js';
import type { View, ViewContext, ViewFactory } from '../view.js';
import { createErrorBox, h, timeElement } from './html.js';
import { buildTestRequest, describeTestAnswer, sampleTopic, type RuleTestAnswer } from './rule-test.js';
import { formatCount } from './text.js';

const REFRESH_MS = 5000;
/** AWS IoT SQL versions (rules/sql/compile.ts); the empty choice lets the server use its default. */
const SQL_VERSIONS = ['2015-10-08', '2016-03-23', 'beta'];
const DEFAULT_PAYLOAD = '{\n  "deviceId": "device-1",\n  "temperature": 21.5,\n  "humidity": 40\n}';

export const createRulesView: ViewFactory = (ctx: ViewContext): View => {
  let rules: RuleStatus[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let visible = false;
  let refreshing = false;

  const errors = createErrorBox('rules-error');
  const updated = h('p', { class: 'note', 'data-testid': 'rules-updated' });

  // ---- rules table ----

  const rulesBody = h('tbody', { 'data-testid': 'rules-rows' });
  const rulesTable = h(
    'table',
    { class: 'rules-table', 'data-testid': 'rules-table' },
    h('caption', {}, 'Counters since the broker started'),
    h(
      'thead',
      {},
      h('tr', {}, ...['Rule', 'Enabled', 'SQL', 'Actions', 'Matched', 'Fired', 'No result', 'Failed', 'Actions failed'].map((t) => h('th', { scope: 'col' }, t))),
    ),
    rulesBody,
  );

  function ruleRow(rule: RuleStatus): HTMLTableRowElement {
    const c = rule.counters;
    const actions = rule.actions.join(', ') + (rule.errorAction ? ` (on error: ${rule.errorAction})` : '');
    return h(
      'tr',
      { 'data-rule-name': rule.ruleName, 'data-enabled': String(rule.enabled) },
      h('th', { scope: 'row' }, rule.ruleName),
      h('td', { 'data-field': 'enabled' }, h('span', { class: `badge ${rule.enabled ? 'badge-ok' : 'badge-off'}` }, rule.enabled ? 'enabled' : 'disabled')),
      h('td', { 'data-field': 'sql', class: 'wrap' }, h('code', {}, rule.sql), rule.awsIotSqlVersion ? h('span', { class: 'note' }, ` ${rule.awsIotSqlVersion}`) : null),
      h('td', { 'data-field': 'actions', class: 'wrap' }, actions || '—'),
      countCell('matched', c.matched),
      countCell('fired', c.fired),
      countCell('noResult', c.noResult),
      countCell('failed', c.failed, true),
      countCell('actionsFailed', c.actionsFailed, true),
    );
  }

  // ---- pipelines table ----

  const pipelinesBody = h('tbody', { 'data-testid': 'pipelines-rows' });
  const pipelinesTable = h(
    'table',
    { class: 'pipelines-table', 'data-testid': 'pipelines-table' },
    h('caption', {}, 'Counters since the broker started; backlog = channel messages not yet through the pipeline'),
    h(
      'thead',
      {},
      h('tr', {}, ...['Pipeline', 'Channel → datastore', 'Backlog', 'Rows out', 'Write errors', 'Last error', 'Activities (in / out / dropped / errors)'].map((t) => h('th', { scope: 'col' }, t))),
    ),
    pipelinesBody,
  );

  function pipelineRow(p: PipelineStatus): HTMLTableRowElement {
    const lastError = p.lastError
      ? h(
          'td',
          { 'data-field': 'lastError', class: 'wrap bad' },
          timeElement(p.lastError.at),
          ': ',
          p.lastError.activity ? `${p.lastError.activity}: ` : '',
          p.lastError.message,
        )
      : h('td', { 'data-field': 'lastError' }, '—');
    const activities = h(
      'ul',
      { class: 'activities' },
      ...p.activities.map((a) =>
        h(
          'li',
          { 'data-activity': a.name, 'data-in': a.in, 'data-out': a.out, 'data-dropped': a.dropped, 'data-errors': a.errors },
          h('span', { class: 'activity-name' }, `${a.name} (${a.type})`),
          ' ',
          `${formatCount(a.in)} / ${formatCount(a.out)} / ${formatCount(a.dropped)} / `,
          h('span', { class: a.errors > 0 ? 'bad' : undefined }, formatCount(a.errors)),
        ),
      ),
    );
    return h(
      'tr',
      { 'data-pipeline-name': p.pipelineName },
      h('th', { scope: 'row' }, p.pipelineName),
      h('td', { 'data-field': 'flow' }, `${p.channelName} → ${p.datastoreName}`),
      countCell('backlog', p.backlog),
      countCell('rowsOut', p.rowsOut),
      countCell('writeErrors', p.writeErrors, true),
      lastError,
      h('td', { 'data-field': 'activities' }, p.activities.length > 0 ? activities : '—'),
    );
  }

  // ---- test form ----

  const ruleSelect = h('select', { id: 'rule-test-rule', 'data-testid': 'rule-test-rule' }, h('option', { value: '' }, '(write your own)'));
  const sqlInput = h('textarea', { id: 'rule-test-sql', rows: 3, spellcheck: 'false', required: true });
  const versionSelect = h(
    'select',
    { id: 'rule-test-version' },
    h('option', { value: '' }, 'server default'),
    ...SQL_VERSIONS.map((v) => h('option', { value: v }, v)),
  );
  const topicInput = h('input', { id: 'rule-test-topic', type: 'text', required: true, autocomplete: 'off', placeholder: 'devices/device-1/telemetry' });
  const payloadInput = h('textarea', { id: 'rule-test-payload', rows: 6, spellcheck: 'false' });
  payloadInput.value = DEFAULT_PAYLOAD;
  const submit = h('button', { type: 'submit', 'data-testid': 'rule-test-submit' }, 'Test');
  const testErrors = createErrorBox('rule-test-error');
  const summary = h('p', {});
  const output = h('pre', { 'data-testid': 'rule-test-output', class: 'json-output', hidden: true });
  const result = h('div', { 'data-testid': 'rule-test-result', role: 'status', 'aria-live': 'polite' }, summary, output);

  const form = h(
    'form',
    { class: 'rule-test panel', 'data-testid': 'rule-test-form', 'aria-labelledby': 'rule-test-title' },
    h('h3', { id: 'rule-test-title' }, 'Test a rule'),
    h('div', { class: 'field' }, h('label', { for: 'rule-test-rule' }, 'Start from rule'), ruleSelect),
    h('div', { class: 'field' }, h('label', { for: 'rule-test-sql' }, 'SQL'), sqlInput),
    h('div', { class: 'field' }, h('label', { for: 'rule-test-version' }, 'SQL version'), versionSelect),
    h('div', { class: 'field' }, h('label', { for: 'rule-test-topic' }, 'Topic'), topicInput),
    h('div', { class: 'field' }, h('label', { for: 'rule-test-payload' }, 'Payload (JSON)'), payloadInput),
    h('div', { class: 'view-actions' }, submit),
    testErrors.element,
    result,
  );

  ruleSelect.addEventListener('change', () => {
    const rule = rules.find((r) => r.ruleName === ruleSelect.value);
    if (!rule) return;
    sqlInput.value = rule.sql;
    if (rule.awsIotSqlVersion && !SQL_VERSIONS.includes(rule.awsIotSqlVersion)) versionSelect.append(h('option', { value: rule.awsIotSqlVersion }, rule.awsIotSqlVersion));
    versionSelect.value = rule.awsIotSqlVersion ?? '';
    const topic = sampleTopic(rule.sql);
    if (topic !== '') topicInput.value = topic;
  });

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void runTest();
  });

  async function runTest(): Promise<void> {
    testErrors.clear();
    const request = buildTestRequest({ sql: sqlInput.value, version: versionSelect.value, topic: topicInput.value, payload: payloadInput.value });
    if (!request.ok) {
      testErrors.show(request.error);
      return;
    }
    submit.disabled = true;
    form.setAttribute('aria-busy', 'true');
    try {
      const answer = await ctx.api.request<RuleTestAnswer>('POST', '/api/rules/test', request.value);
      const described = describeTestAnswer(answer);
      result.dataset.matched = String(answer.matched);
      result.dataset.fired = String(answer.fired);
      summary.textContent = described.summary;
      output.textContent = described.output;
      output.hidden = described.output === '';
    } catch (error) {
      delete result.dataset.matched;
      delete result.dataset.fired;
      summary.textContent = '';
      output.hidden = true;
      testErrors.show(error);
    } finally {
      submit.disabled = false;
      form.removeAttribute('aria-busy');
    }
  }

  function renderRuleChoices(): void {
    const names = rules.map((r) => r.ruleName);
    const shown = [...ruleSelect.options].slice(1).map((o) => o.value);
    if (names.join('\n') === shown.join('\n')) return; // unchanged: keep the open list and the choice
    const chosen = ruleSelect.value;
    ruleSelect.replaceChildren(h('option', { value: '' }, '(write your own)'), ...names.map((n) => h('option', { value: n }, n)));
    ruleSelect.value = names.includes(chosen) ? chosen : '';
  }

  // ---- refresh ----

  async function refresh(): Promise<void> {
    if (refreshing) return;
    refreshing = true;
    const [r, p] = await Promise.allSettled([
      ctx.api.request<RuleStatusBody>('GET', '/api/rules'),
      ctx.api.request<PipelineStatusBody>('GET', '/api/pipelines'),
    ]);
    refreshing = false;
    if (r.status === 'fulfilled') {
      rules = r.value.rules;
      rulesBody.replaceChildren(...(rules.length > 0 ? rules.map(ruleRow) : [emptyRow(9, 'No rules defined.')]));
      renderRuleChoices();
    }
    if (p.status === 'fulfilled') {
      const pipelines = p.value.pipelines;
      pipelinesBody.replaceChildren(...(pipelines.length > 0 ? pipelines.map(pipelineRow) : [emptyRow(7, 'No pipelines defined.')]));
    }
    const failed = r.status === 'rejected' ? r.reason : p.status === 'rejected' ? p.reason : undefined;
    if (failed !== undefined) errors.show(failed);
    else errors.clear();
    updated.replaceChildren('Updated ', timeElement(Date.now()), `; refreshed every ${REFRESH_MS / 1000} s.`);
    schedule();
  }

  function schedule(): void {
    if (timer !== undefined) clearTimeout(timer);
    timer = visible ? setTimeout(() => void refresh(), REFRESH_MS) : undefined;
  }

  const element = h(
    'section',
    { class: 'view view-rules', 'data-testid': 'rules-view', 'aria-labelledby': 'rules-title' },
    h('div', { class: 'view-head' }, h('h2', { id: 'rules-title' }, 'Rules and pipelines'), updated),
    errors.element,
    h('h3', {}, 'Rules'),
    h('div', { class: 'scroll table-wrap' }, rulesTable),
    h('h3', {}, 'Pipelines'),
    h('div', { class: 'scroll table-wrap' }, pipelinesTable),
    form,
  );

  return {
    element,
    show() {
      visible = true;
      void refresh();
    },
    hide() {
      visible = false;
      schedule();
    },
  };
};

function countCell(field: string, n: number, badWhenPositive = false): HTMLTableCellElement {
  return h('td', { 'data-field': field, 'data-value': n, class: badWhenPositive && n > 0 ? 'num bad' : 'num' }, formatCount(n));
}

function emptyRow(columns: number, text: string): HTMLTableRowElement {
  return h('tr', {}, h('td', { colspan: columns, class: 'note' }, text));
}
