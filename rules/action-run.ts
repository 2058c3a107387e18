// One fired rule's actions for one message: starts them, counts them as they settle, sends the
// error message once all have settled, and answers the acknowledgement question (only durable
// channel writes hold it). Plain callbacks and counters instead of Promise.allSettled: that
// alone cost more than evaluating the rule.
import type { RuleCounters, RuleSinks } from './types.js';
import type { ActionFailure, CompiledAction } from './actions.js';
import { RulesError } from './errors.js';
import type { RuleEvaluation } from './sql/compile.js';
import type { MessageContext, Scope } from './sql/scope.js';
import type { Value } from './sql/values.js';

export interface RunnableRule {
  name: string;
  actions: CompiledAction[];
  errorAction: CompiledAction | undefined;
  /** how many of `actions` are durable (iotAnalytics) */
  durableCount: number;
  counters: RuleCounters;
}

/** Counts background work in flight, so the engine can tell when it is idle. */
export interface InFlight {
  begin(): void;
  end(): void;
}

/** Starts every action now, synchronously and in order (so one client's messages reach the
 * sinks in order). Returns a promise only when the rule has durable actions: it resolves once
 * those are written, and rejects with RuleActionFailedException when one failed, after the
 * whole rule settled and its error action ran. */
export function startActions(rule: RunnableRule, ev: RuleEvaluation, m: MessageContext, sinks: RuleSinks, inFlight: InFlight): Promise<void> | undefined {
  const { output, scope } = ev;
  const actions = rule.actions;
  if (actions.length === 1 && rule.durableCount === 1 && rule.errorAction === undefined) return startOnlyAction(rule, ev, m, sinks, inFlight);
  const run = new ActionRun(rule, scope, m, sinks, inFlight);
  inFlight.begin();
  const ack = rule.durableCount > 0
    ? new Promise<void>((resolve, reject) => { run.resolveAck = resolve; run.rejectAck = reject; })
    : undefined;
  for (let i = 0; i < actions.length; i++) {
    const action = actions[i]!;
    // Inline callbacks on purpose: tsx/esbuild wrap every *named* function value in __name(),
    // which costs as much as the rest of the run when done per message.
    const done = action.run(output, scope, sinks, m.msg);
    if (action.durable) done.then(() => run.durableOk(), (e: unknown) => run.fail(i, e));
    else done.then(() => run.ok(), (e: unknown) => run.fail(i, e));
  }
  return ack;
}

/** The common rule, one channel and no error action: the action's own promise, with the counters
 * and the failure text of the general run, is the acknowledgement; no run object, no second promise. */
function startOnlyAction(rule: RunnableRule, ev: RuleEvaluation, m: MessageContext, sinks: RuleSinks, inFlight: InFlight): Promise<void> {
  const action = rule.actions[0]!;
  inFlight.begin();
  return action.run(ev.output, ev.scope, sinks, m.msg).then(
    () => {
      rule.counters.actionsOk++;
      inFlight.end();
    },
    (e: unknown) => {
      rule.counters.actionsFailed++;
      inFlight.end();
      let text: string;
      try {
        text = failureLine(failureOf(action, ev.scope, e));
      } catch (built) {
        text = errorText(built); // as the general run does when its report cannot be built
      }
      throw new RulesError('RuleActionFailedException', `rule ${rule.name}: ${text}`);
    },
  );
}

class ActionRun {
  private pending: number;
  private durablePending: number;
  private durableFailed = false;
  private failed: Array<{ slot: number; reason: unknown }> | undefined;
  resolveAck: (() => void) | undefined;
  rejectAck: ((e: unknown) => void) | undefined;

  constructor(
    private readonly rule: RunnableRule,
    private readonly scope: Scope,
    private readonly m: MessageContext,
    private readonly sinks: RuleSinks,
    private readonly inFlight: InFlight,
  ) {
    this.pending = rule.actions.length;
    this.durablePending = rule.durableCount;
  }

  ok(): void {
    this.rule.counters.actionsOk++;
    this.settledOne();
  }

  durableOk(): void {
    this.rule.counters.actionsOk++;
    if (--this.durablePending === 0 && !this.durableFailed) this.resolveAck!();
    this.settledOne();
  }

  fail(slot: number, reason: unknown): void {
    this.rule.counters.actionsFailed++;
    if (this.rule.actions[slot]!.durable) this.durableFailed = true;
    (this.failed ??= []).push({ slot, reason });
    this.settledOne();
  }

  private settledOne(): void {
    if (--this.pending === 0) this.finish();
  }

  /** Everything settled: one error message listing every failure (in action order). */
  private finish(): void {
    const failed = this.failed;
    if (!failed) {
      this.inFlight.end();
      return;
    }
    const { rule, scope, m } = this;
    let failure: RulesError | undefined;
    let errorActionDone: Promise<void> | undefined;
    try {
      failed.sort((a, b) => a.slot - b.slot);
      const failures = failed.map(({ slot, reason }) => failureOf(rule.actions[slot]!, scope, reason));
      if (this.durableFailed) {
        failure = new RulesError('RuleActionFailedException', `rule ${rule.name}: ${failures.map(failureLine).join('; ')}`);
      }
      if (rule.errorAction) {
        errorActionDone = rule.errorAction.run(errorPayload(rule.name, m, failures), scope, this.sinks, m.msg).then(undefined, () => {
          rule.counters.errorActionsFailed++;
        });
      }
    } catch (e) {
      // A failure report that cannot be built must still release the acknowledgement question.
      failure ??= this.durableFailed ? new RulesError('RuleActionFailedException', `rule ${rule.name}: ${errorText(e)}`) : undefined;
    }
    if (failure) {
      const reject = this.rejectAck!;
      const error = failure;
      // A durable error action (a channel) is awaited before the rejection, as AWS writes the
      // error message before giving up on the message; other error actions only have to start.
      if (errorActionDone && rule.errorAction!.durable) errorActionDone.then(() => reject(error), () => reject(error));
      else reject(error);
    }
    if (errorActionDone) errorActionDone.then(this.inFlight.end, this.inFlight.end);
    else this.inFlight.end();
  }
}

/** The documented error-action message (spec §1.12): one per (rule, message), all failures. */
function errorPayload(ruleName: string, m: MessageContext, failures: ActionFailure[]): Value {
  return {
    ruleName,
    topic: m.msg.topic,
    cloudwatchTraceId: m.traceId(),
    clientId: m.msg.clientId ?? 'n/a',
    base64OriginalPayload: m.msg.payload.toString('base64'),
    failures: failures.map((f) => ({ ...f })),
  };
}

function failureOf(action: CompiledAction, scope: Scope, reason: unknown): ActionFailure {
  return { failedAction: action.failedActionName, failedResource: action.resource(scope), errorMessage: errorText(reason) };
}

function failureLine(f: ActionFailure): string {
  return `${f.failedAction} ${f.failedResource}: ${f.errorMessage}`;
}

function errorText(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return String(reason);
}
