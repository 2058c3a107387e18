// The composition root: reads the configuration, opens analytics, builds the rules engine with
// sinks into analytics and the broker, starts MQTT and HTTP, and stops it all in the right order.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRulesEngine, type RuleLookups, type RulesEngine } from '../rules/index.js';
import { openAnalytics, type Analytics } from '../analytics/index.js';
import { loadConfig, type Config, type ConfigInputs, type ServerSettings } from './config.js';
import { BrokerError, isCodedError } from './errors.js';
import { lockDataDir } from './data-dir-lock.js';
import { createLogger, type LogLevel, type Logger } from './log.js';
import { createIngest } from './mqtt/ingest.js';
import { LISTEN_BACKLOG, startMqtt, type MqttServer } from './mqtt/server.js';
import { createHttp } from './http/server.js';
import { loadAdminKey, type AccessKey } from './identity/keys.js';
import { carriesSigV4, createSigV4Verifier } from './identity/sigv4.js';
import { attachWebSockets } from './http/websocket.js';
import { healthRoutes } from './http/routes/health.js';
import { datasetRoutes } from './http/routes/datasets.js';
import { createContentUrlSigner, datasetContentRoutes, serverBaseUrl } from './http/routes/dataset-content.js';
import { datastoreExportRoutes } from './http/routes/datastore-export.js';
import { detectorRoutes } from './http/routes/detectors.js';
import { iotAnalyticsDatasetRoutes } from './http/routes/iotanalytics-datasets.js';
import { dashboardRoutes } from './http/routes/dashboard.js';
import { iotRulesRoutes } from './http/routes/iot-rules.js';
import { iotRegistryRoutes } from './http/routes/iot-registry.js';
import { iotCertificateRoutes } from './http/routes/iot-certificates.js';
import { loadOrCreateCa } from './identity/ca.js';
import { openCertificateService } from './identity/certificates.js';
import { applyDeclaredPolicies, openPolicyStore } from './identity/policies.js';
import { iotPolicyRoutes } from './http/routes/iot-policies.js';
import { applyDeclaredRegistry, openRegistry } from './registry/index.js';
import { iotDataRoutes } from './http/routes/iot-data.js';
import { iotAnalyticsChannelRoutes } from './http/routes/iotanalytics-channels.js';
import { iotAnalyticsDatastoreRoutes } from './http/routes/iotanalytics-datastores.js';
import { iotAnalyticsPipelineRoutes } from './http/routes/iotanalytics-pipelines.js';
import { iotAnalyticsMiscRoutes } from './http/routes/iotanalytics-misc.js';
import { iotRetainedRoutes } from './http/routes/iot-retained.js';
import { iotEndpointRoutes } from './http/routes/iot-endpoint.js';
import { openShadowService } from './shadows/index.js';
import { rulesTestRoutes } from './http/routes/rules-test.js';
import { openRuleStore } from './rules-store.js';
import { createLiveFeed } from './live.js';
import { alertRoutes } from './http/routes/alerts.js';
import { createBoundedPublisher } from './mqtt/lifecycle.js';
import type { Alert } from '../analytics/index.js';
import type { AlertMessage } from './contract.js';
import { createRuleSinks } from './wiring.js';
import { openCluster } from './cluster/index.js';
import { createHttpDelivery } from './actions/http.js';
import { createMetrics } from './metrics.js';
import { metricSources, rowLagSource } from './metric-sources.js';
import type { PortsFile } from './contract.js';
import { loadOrIssueServerTls } from './identity/server-tls.js';
import { openPasswordStore } from './identity/passwords.js';
import { createAuthorizer, type AuthLookups } from './mqtt/auth.js';
import { caCertificateRoutes } from './http/routes/ca-certificate.js';
import { devicePasswordRoutes } from './http/routes/device-passwords.js';
import type { Registry } from './registry/index.js';
import { alertTopic } from './alert-topic.js';
import { createFleetActivity } from './fleet-activity.js';
import { fleetRoutes } from './http/routes/fleet.js';
import { deviceHistoryRoutes } from './http/routes/device-history.js';
import { statusRoutes } from './http/routes/status.js';
import { datasetContentsRoutes } from './http/routes/dataset-contents.js';
import { bootstrapOperators, openOperatorStore, OPERATOR_CREDENTIALS_FILE, OPERATOR_ENV, type OperatorBootstrap } from './identity/operators.js';
import { openSessionStore } from './identity/sessions.js';
import { createFailureLimit, failureLimitMetricSource } from './identity/failure-limit.js';
import { openAuditLog, type AuditLog } from './audit-log.js';
import { auditRoutes } from './http/routes/audit.js';
import { operatorMetricSources } from './identity/operator-metrics.js';
import { sessionRoutes } from './http/routes/session.js';
import { operatorRoutes } from './http/routes/operators.js';

/** How long a stop waits for HTTP connections to finish before closing them. */
const HTTP_CLOSE_GRACE_MS = 2000;

/** AWS's rule size limit is 256 KB; the margin covers JSON escaping of the SQL and actions. */
const AWS_RULE_BODY_LIMIT = 256 * 1024 + 16 * 1024;

export interface StartOptions {
  /** 'default' (or undefined) for the embedded configuration, a file path, or a configuration object */
  config?: string | object;
  dataDir?: string;
  httpPort?: number;
  mqttPort?: number;
  mqttsPort?: number;
  host?: string;
  logLevel?: LogLevel;
  /** environment variables to read IOT_* settings from (defaults to none: callers pass process.env) */
  env?: Record<string, string | undefined>;
  logger?: Logger;
}

export interface RunningServer {
  readonly httpPort: number;
  readonly mqttPort: number;
  /** MQTT over TLS (device certificates) */
  readonly mqttsPort: number;
  readonly dataDir: string;
  readonly config: Config;
  readonly rules: RulesEngine;
  readonly analytics: Analytics;
  /** the administrator's access key for the AWS-compatible APIs (SigV4) */
  readonly adminCredentials: AccessKey;
  /** `<dataDir>/operator-credentials.json`: the first operator's generated password, when the
   * server made one (it may not exist: IOT_OPERATOR_PASSWORD, or operators made otherwise) */
  readonly operatorCredentialsFile: string;
  stop(): Promise<void>;
}

export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const config = loadConfig(toConfigInputs(options));
  const settings = config.server;
  const log = options.logger ?? createLogger(settings.logLevel);
  mkdirSync(settings.dataDir, { recursive: true });
  // before anything in the data directory is opened: a second server on it is refused here
  // (DataDirLocked, README "The data directory"); released last, once every store has closed
  const dataDirLock = lockDataDir(settings.dataDir);
  let adminKey: ReturnType<typeof loadAdminKey>;
  try {
    adminKey = loadAdminKey(settings.dataDir, options.env ?? {});
  } catch (err) {
    dataDirLock.release();
    throw err;
  }
  // where the key is, never the secret
  if (adminKey.source === 'created') log.info({ credentialsFile: adminKey.path, accessKeyId: adminKey.credentials.accessKeyId }, 'created the admin access key for the AWS-compatible APIs (SigV4); read it from the credentials file');
  if (adminKey.looseFileMode) log.warn({ credentialsFile: adminKey.path }, 'the admin credentials file is readable by other users; chmod 600 it');
  const signatures = createSigV4Verifier({
    secretFor: (id) => (id === adminKey.credentials.accessKeyId ? adminKey.credentials.secretAccessKey : undefined),
  });

  const cleanup: (() => Promise<void> | void)[] = [() => dataDirLock.release()]; // steps are unshifted: this runs last
  let ready = false;
  try {
    // operators and their sessions (README "Operators and sign-in"): a removed operator or a new
    // password ends the operator's sessions, including a reset by IOT_OPERATOR_PASSWORD below
    const operators = openOperatorStore({ dataDir: settings.dataDir, fsync: settings.fsync });
    const sessions = openSessionStore({
      dataDir: settings.dataDir, fsync: settings.fsync, isOperator: (name) => operators.has(name),
      onDiscardedFile: (reason) => log.warn({ reason }, 'the operator sessions file was unreadable and is replaced: operators sign in again'),
    });
    cleanup.unshift(() => sessions.close());
    operators.onChange((name, change) => sessions.endForOperator(name, change === 'removed' ? 'operator-removed' : 'password-changed'));
    logOperatorBootstrap(await bootstrapOperators(operators, settings.dataDir, options.env ?? {}), log);
    // failed authentications per source address: one limit for operator sign-in, one for MQTT passwords
    const signInLimit = createFailureLimit();
    const mqttPasswordLimit = createFailureLimit();
    // who changed what, when (README "Security"): HTTP changes, sign-ins, and this start's configuration
    const audit = openAuditLog({ dataDir: settings.dataDir, fsync: settings.fsync, log });
    cleanup.unshift(() => audit.close());
    // the device registry: the journal replayed, then the configuration's things, types, groups
    const registry = openRegistry(settings.dataDir, { region: settings.region, accountId: settings.accountId, fsync: settings.fsync });
    cleanup.unshift(() => registry.close());
    applyDeclaredRegistry(registry, config.resources, config.source);
    // device certificates: our CA (created on first start) and the certificate store with thing principals
    const ca = await loadOrCreateCa(settings.dataDir);
    if (ca.source === 'created') log.info({ caCertificate: ca.certificatePath }, 'created the device certificate authority');
    if (ca.looseFileMode) log.warn({ caKeyFile: ca.keyPath }, 'the CA key file is readable by other users; chmod 600 it');
    const certificates = await openCertificateService({ dataDir: settings.dataDir, region: settings.region, accountId: settings.accountId, ca, fsync: settings.fsync, thingExists: (name) => registry.findThing(name) !== undefined });
    // AWS IoT policies (the PolicyEngine MQTT authorization asks) and the configuration's declared ones
    const policies = openPolicyStore({
      dataDir: settings.dataDir, region: settings.region, accountId: settings.accountId, fsync: settings.fsync,
      targetExists: (target) => policyTargetExists(target, registry, certificates),
      groupAncestors: (groupArn) => thingGroupAncestors(groupArn, registry),
    });
    applyDeclaredPolicies(policies, config.resources.policies ?? [], config.source);
    // device authentication: the broker's TLS certificate (our CA signs it), device passwords, policies
    const serverTls = await loadOrIssueServerTls(settings.dataDir, ca, settings.host);
    if (serverTls.source === 'issued') log.info({ names: serverTls.names }, 'issued the broker TLS certificate for MQTT over TLS');
    const passwords = openPasswordStore({ dataDir: settings.dataDir, region: settings.region, accountId: settings.accountId, fsync: settings.fsync, thingExists: (name) => registry.findThing(name) !== undefined });
    if (settings.allowAnonymous) log.warn({ setting: 'allowAnonymous' }, 'anonymous MQTT clients are allowed: development only');
    const auth = createAuthorizer({
      policies,
      allowAnonymous: settings.allowAnonymous,
      arnPrefix: `arn:aws:iot:${settings.region}:${settings.accountId}:`,
      lookups: deviceAuthLookups(registry, certificates, passwords),
      failureLimit: mqttPasswordLimit,
    });

    let mqtt: MqttServer | undefined;
    // Webhook deliveries end after MQTT stops taking messages (cleanup runs last-registered first).
    const httpDelivery = createHttpDelivery();
    cleanup.unshift(() => httpDelivery.close());
    // Shadow answers go out through the broker's publish, so subscribers and rules see them.
    const shadows = openShadowService({
      dataDir: settings.dataDir,
      publish: (topic, payload) => (mqtt ? mqtt.publish(topic, payload, 1) : Promise.resolve()),
      onPublishError: (topic, err) => log.warn({ topic, err: String(err) }, 'shadow answer not published'),
    });
    // Analytics opens after the registry and shadows: its enrich activities read them, also for
    // the messages it replays while opening; it closes before them.
    const analytics = await openAnalytics({
      dataDir: settings.dataDir, fsync: settings.fsync, region: settings.region, accountId: settings.accountId,
      ...(settings.duckdbMemoryLimit ? { database: { memoryLimit: settings.duckdbMemoryLimit } } : {}),
      datasetTimeoutMs: settings.datasetQueryTimeoutSeconds * 1000,
      enrich: { describeThing: (name) => registry.findThing(name), getShadow: (name) => shadows.thingShadow(name) },
    });
    cleanup.unshift(() => analytics.close());
    // cluster mode (README "Cluster mode (Redis)"): Redis unreachable refuses start-up (ClusterUnavailable);
    // closes after MQTT (aedes uses its engines) and before analytics (the consumer writes into it)
    const cluster = settings.cluster ? await openCluster({ settings: settings.cluster, maxPayloadBytes: settings.maxPayloadBytes, analytics, log }) : undefined;
    if (cluster) {
      cleanup.unshift(() => cluster.close());
      log.info({ nodeId: cluster.nodeId, analytics: cluster.analyticsRole }, 'cluster mode: subscriptions, sessions, retained messages and channel writes are shared through Redis');
    }
    const lookups: RuleLookups = {
      thingShadow: (thingName, shadowName) => shadows.thingShadow(thingName, shadowName),
      registryData: (thingName, api) => registry.registryData(thingName, api),
    };
    const rules = createRulesEngine(createRuleSinks(analytics, () => mqtt, httpDelivery, cluster ? (name, msgs) => cluster.writeChannel(name, msgs) : undefined), { accountId: settings.accountId, lookups });
    const ruleArn = (name: string) => `arn:aws:iot:${settings.region}:${settings.accountId}:rule/${name}`;
    // rules persisted from the API first, then the configuration's (config as code wins a name)
    const ruleStore = openRuleStore(settings.dataDir, rules, ruleArn);
    await applyResources(config, rules, analytics);
    cluster?.startConsumer(); // the analytics node stores forwarded writes once its channels exist
    recordConfiguration(audit, config);

    const ingest = createIngest(rules, settings.maxPayloadBytes, log, shadows);
    // who connected, when, and how much each client publishes (GET /api/fleet); bounded
    const fleetActivity = createFleetActivity({ maxClients: 100_000 });
    const topicLimits = { maxBytes: settings.maxTopicBytes, maxSlashes: settings.maxTopicSlashes };
    mqtt = await startMqtt({ host: settings.host, port: settings.mqttPort, dataDir: settings.dataDir, fsync: settings.fsync, maxPayloadBytes: settings.maxPayloadBytes, topicLimits, ingest, log, auth, activity: fleetActivity, ...(cluster ? { shared: cluster.shared } : {}), tls: { port: settings.mqttsPort, keyPem: serverTls.keyPem, certificatePem: serverTls.certificatePem } });
    const mqttServer = mqtt;
    cleanup.unshift(() => mqttServer.close());
    // a credential that stops being valid ends the connections that use it
    certificates.onDeactivated((arn) => mqttServer.disconnectPrincipal(arn));
    passwords.onChange((thingName) => mqttServer.disconnectPrincipal(passwords.principalArn(thingName)));
    cleanup.unshift(() => shadows.idle()); // queued shadow answers go out before MQTT closes

    const live = createLiveFeed(() => analytics.listDatastores(), { maxPendingRows: 10_000, highWaterBytes: 1 << 20 });
    analytics.on('rows', (event: { datastoreName: string; rows: Record<string, unknown>[] }) => live.publish(event.datastoreName, event.rows));
    cleanup.unshift(() => live.close());
    // Alert events as JSON on iotcore/alerts/<source>/<deviceId> (a broker publish: subscribers
    // and rules see it) and to every live client; fire-and-forget through a bounded queue.
    const alertPublisher = createBoundedPublisher((topic, payload) => mqttServer.publish(topic, payload, 1), { maxQueued: 10_000, concurrency: 16 });
    const unsubscribeAlerts = analytics.alerts.subscribe(({ event, alert }) => {
      live.publishAlert({ event, alert });
      alertPublisher.offer(alertTopic(alert), Buffer.from(JSON.stringify({ eventType: event, ...alert } satisfies AlertMessage)));
    });
    cleanup.unshift(() => {
      unsubscribeAlerts();
      alertPublisher.close();
    });
    // finished dataset contents (any trigger) to every live client, so open dashboards refresh
    const unsubscribeDatasets = analytics.datasets.subscribe((e) => live.publishDataset({ type: 'dataset', ...e }));
    cleanup.unshift(() => unsubscribeDatasets());

    const metrics = createMetrics([...metricSources({ ingest, mqtt: mqttServer, rules, analytics, live, http: httpDelivery, auth: auth.counters, alertPublish: alertPublisher.counters, fleet: () => fleetActivity.counters() }), ...operatorMetricSources(sessions, signInLimit),
      failureLimitMetricSource('iotcore_mqtt_password_failures', 'failed MQTT password attempts: failures, refused (CONNACK 3), addresses tracked now, forgotten (bounded memory)', mqttPasswordLimit),
      { name: 'iotcore_audit_log', help: 'audit log: entries written, rotations, failed writes since start', labelNames: ['counter'], read: () => Object.entries(audit.counters()).map(([counter, value]) => ({ labels: { counter }, value })) },
      ...(cluster ? [{ name: 'iotcore_cluster', help: 'cluster mode: channel messages forwarded to Redis and stored from it, writes and publishes refused (backlog full, Redis unreachable)', labelNames: ['counter'], read: () => Object.entries(cluster.counters()).map(([counter, value]) => ({ labels: { counter }, value })) }] : [])], [rowLagSource(analytics)]);
    // dataset content URLs name the port we actually listen on (known once listening)
    const listeningPort = (): number => {
      const a = http.server.address();
      return typeof a === 'object' && a ? a.port : settings.httpPort;
    };
    const contentUrls = createContentUrlSigner(settings.dataDir, { baseUrl: (requestHost) => serverBaseUrl(settings.host, listeningPort(), requestHost) });
    const http = createHttp(
      [
        healthRoutes(() => ready, metrics),
        datasetRoutes(analytics),
        datasetContentRoutes(() => analytics.datasets, contentUrls),
        rulesTestRoutes({ accountId: settings.accountId, lookups, bodyLimit: 2 * settings.maxPayloadBytes + AWS_RULE_BODY_LIMIT }),
        dashboardRoutes(),
        caCertificateRoutes(ca.certificatePem),
        fleetRoutes({ registry, activity: fleetActivity, openAlerts: () => analytics.alerts.openCountsByDevice() }),
        deviceHistoryRoutes(analytics),
        statusRoutes(rules, analytics),
        datasetContentsRoutes(() => analytics.datasets),
        sessionRoutes({ operators, sessions, limit: signInLimit }),
        operatorRoutes(operators),
        auditRoutes(audit),
      ],
      log,
      settings.maxPayloadBytes,
      { routes: [iotRulesRoutes(ruleStore, { ruleArn }), iotRegistryRoutes(registry), iotCertificateRoutes(certificates, policies), iotPolicyRoutes(policies), iotDataRoutes(shadows, { publish: (topic, payload, qos, retain) => mqttServer.publish(topic, payload, qos, retain), bodyLimit: settings.maxPayloadBytes, topicLimits }), iotRetainedRoutes(() => mqttServer.retained), iotEndpointRoutes({ host: settings.host }), iotAnalyticsChannelRoutes(analytics), iotAnalyticsDatastoreRoutes(analytics), iotAnalyticsPipelineRoutes(analytics), iotAnalyticsMiscRoutes(analytics), iotAnalyticsDatasetRoutes(analytics, contentUrls), devicePasswordRoutes(passwords), datastoreExportRoutes(analytics), alertRoutes(analytics), detectorRoutes(analytics)], bodyLimit: AWS_RULE_BODY_LIMIT, auth: { isSigned: carriesSigV4, verify: (r) => signatures.verify(r) } },
      sessions,
      audit,
    );
    // a live socket lives no longer than the session that opened it
    sessions.onEnd((session, reason) => sockets.endSession(session.id, `session ended: ${reason}`));
    const sockets = attachWebSockets(http.server, {
      mqtt: (stream, request) => mqttServer.handleStream(stream, request),
      live: (socket) => live.accept(socket),
    }, sessions);
    // MQTT over WebSocket arrives here too: the same accept queue as the MQTT listeners'
    await http.listen({ port: settings.httpPort, host: settings.host, backlog: LISTEN_BACKLOG });
    cleanup.unshift(async () => {
      sockets.close();
      // fastify closes idle keep-alive connections only; one a client holds in another state
      // (seen with fetch()'s pool after a streamed dataset CSV) must not hold the stop forever
      const force = setTimeout(() => http.server.closeAllConnections(), HTTP_CLOSE_GRACE_MS);
      try {
        await http.close();
      } finally {
        clearTimeout(force);
      }
    });
    const httpAddress = http.server.address();
    const httpPort = typeof httpAddress === 'object' && httpAddress ? httpAddress.port : settings.httpPort;

    const mqttsPort = mqttServer.mqttsPort ?? 0;
    const ports: PortsFile = { mqtt: mqttServer.port, mqtts: mqttsPort, http: httpPort, pid: process.pid };
    writeFileSync(join(settings.dataDir, 'ports.json'), JSON.stringify(ports) + '\n');
    ready = true;
    log.info({ mqttPort: mqttServer.port, mqttsPort, httpPort, dataDir: settings.dataDir, config: config.source }, 'iotcore ready');

    let stopping: Promise<void> | undefined;
    return {
      httpPort,
      mqttPort: mqttServer.port,
      mqttsPort,
      dataDir: settings.dataDir,
      config,
      rules,
      analytics,
      adminCredentials: adminKey.credentials,
      operatorCredentialsFile: join(settings.dataDir, OPERATOR_CREDENTIALS_FILE),
      stop() {
        ready = false;
        stopping ??= runCleanup(cleanup, log);
        return stopping;
      },
    };
  } catch (err) {
    await runCleanup(cleanup, log);
    throw err;
  }
}

/** Says how to sign in: where the generated password is, or that IOT_OPERATOR_PASSWORD applies;
 * never a password. */
function logOperatorBootstrap(b: OperatorBootstrap, log: Logger): void {
  if (b.source === 'created') log.info({ operatorCredentialsFile: b.credentialsFile, username: b.username }, 'created the first operator account; its password is in the operator credentials file');
  else if (b.source === 'file') log.warn({ operatorCredentialsFile: b.credentialsFile, username: b.username }, 'no operator accounts were stored: made the account in the operator credentials file again');
  else if (b.source === 'environment' && b.changed) log.info({ username: b.username, env: OPERATOR_ENV.password }, 'operator password set from the environment');
}

/** One audit entry per start for the configuration just applied: what the file declares, by kind. */
function recordConfiguration(audit: AuditLog, config: Config): void {
  const counts = Object.entries(config.resources).map(([kind, items]) => [kind, String(Array.isArray(items) ? items.length : 0)] as const);
  audit.record({ who: { kind: 'config', name: config.source }, action: 'applyConfiguration', target: Object.fromEntries(counts) });
}

/** Applies the declared resources idempotently (each put is an upsert by name), in dependency
 * order. An invalid resource aborts start-up with the file and key that hold it. */
async function applyResources(config: Config, rules: RulesEngine, analytics: Analytics): Promise<void> {
  const r = config.resources;
  const steps: [string, readonly unknown[], (item: never) => unknown][] = [
    ['channels', r.channels, (d) => analytics.putChannel(d)],
    ['datastores', r.datastores, (d) => analytics.putDatastore(d)],
    ['pipelines', r.pipelines, (d) => analytics.putPipeline(d)],
    ['datasets', r.datasets, (d) => analytics.putDataset(d)],
    ['detectors', r.detectors ?? [], (d) => analytics.detectors.put(d)],
    ['rules', r.rules, (d: { ruleName: string; topicRulePayload: never }) => rules.putRule(d.ruleName, d.topicRulePayload)],
  ];
  for (const [key, items, put] of steps) {
    for (const [i, item] of items.entries()) {
      try {
        await put(item as never);
      } catch (err) {
        const reason = isCodedError(err) ? `${err.code}: ${err.message}` : String(err);
        throw new BrokerError('ConfigInvalid', `config ${config.source}: ${key}[${i}]: ${reason}`);
      }
    }
  }
}

async function runCleanup(cleanup: (() => Promise<void> | void)[], log: Logger): Promise<void> {
  for (const step of cleanup.splice(0)) {
    try {
      await step();
    } catch (err) {
      log.error({ err: String(err) }, 'error while stopping');
    }
  }
}

function toConfigInputs(o: StartOptions): ConfigInputs {
  const flags: Partial<Record<keyof ServerSettings, string | number | boolean>> = {};
  if (o.dataDir !== undefined) flags.dataDir = o.dataDir;
  if (o.httpPort !== undefined) flags.httpPort = o.httpPort;
  if (o.mqttPort !== undefined) flags.mqttPort = o.mqttPort;
  if (o.mqttsPort !== undefined) flags.mqttsPort = o.mqttsPort;
  if (o.host !== undefined) flags.host = o.host;
  if (o.logLevel !== undefined) flags.logLevel = o.logLevel;
  const inputs: ConfigInputs = { env: o.env ?? {}, flags };
  if (typeof o.config === 'string' && o.config !== 'default') inputs.configFile = o.config;
  else if (typeof o.config === 'object') inputs.configObject = o.config;
  return inputs;
}

/** What MQTT authentication reads from the registry, the certificate store and the password store. */
function deviceAuthLookups(registry: Registry, certificates: Awaited<ReturnType<typeof openCertificateService>>, passwords: ReturnType<typeof openPasswordStore>): AuthLookups {
  return {
    certificateStatus: (der) => certificates.certificateStatus(der),
    verifyPassword: (thingName, password) => passwords.verify(thingName, password),
    passwordPrincipal: (thingName) => passwords.principalArn(thingName),
    thing: (thingName) => registry.findThing(thingName),
    // AWS applies a thing group's policies to its member things' principals, and a parent group's too
    thingGroupArns(thingName) {
      if (registry.findThing(thingName) === undefined) return [];
      const arns = new Set<string>();
      for (const g of registry.listThingGroupsForThing(thingName, {}).thingGroups) {
        arns.add(g.groupArn);
        for (const parent of registry.describeThingGroup(g.groupName).thingGroupMetadata.rootToParentThingGroups) arns.add(parent.groupArn);
      }
      return [...arns];
    },
  };
}

/** Whether a policy target exists: a certificate, a thing group, or a password credential's thing. */
function policyTargetExists(target: string, registry: Registry, certificates: Awaited<ReturnType<typeof openCertificateService>>): boolean {
  const m = /^arn:aws:iot:[^:]+:[^:]+:(cert|thinggroup|password)\/(.+)$/.exec(target);
  if (!m) return false;
  const [, kind, id] = m as unknown as [string, string, string];
  if (kind === 'password') return registry.findThing(id) !== undefined;
  try {
    if (kind === 'cert') certificates.describeCertificate(id);
    else registry.describeThingGroup(id);
    return true;
  } catch {
    return false; // ResourceNotFoundException
  }
}

/** The ARNs of a thing group's ancestors (ListAttachedPolicies with `recursive`). */
function thingGroupAncestors(groupArn: string, registry: Registry): string[] {
  const name = groupArn.slice(groupArn.indexOf(':thinggroup/') + ':thinggroup/'.length);
  try {
    return registry.describeThingGroup(name).thingGroupMetadata.rootToParentThingGroups.map((g) => g.groupArn);
  } catch {
    return [];
  }
}
