// The seam between AWS IoT policies (broker/identity/policies*.ts: documents, versions,
// attachments) and the MQTT hooks that enforce them (broker/mqtt/auth.ts). A connection's
// permissions are compiled once when it connects (policy variables substituted, wildcards turned
// into matchers) and recompiled only when a policy or an attachment changes (`generation`), so a
// publish costs a lookup, not a walk over policy documents.

/** The MQTT actions of an AWS IoT policy that the broker enforces (spec §3.5). */
export type MqttAction = 'iot:Connect' | 'iot:Publish' | 'iot:RetainPublish' | 'iot:Subscribe' | 'iot:Receive';

/** What the policy variables of one connection resolve to (spec §3.5, "Policy variables"). */
export interface ConnectionFacts {
  clientId: string;
  /** source IP, no port, IPv4 without ::ffff: (for `${aws:SourceIp}` and the IpAddress condition) */
  sourceIp: string;
  /** the authenticated principal: a certificate ARN, or a password credential's ARN */
  principal: string;
  /** set only when the client id equals the name of a thing the principal is attached to */
  thing?: { thingName: string; thingTypeName?: string; attributes: Record<string, string> };
  /** the client certificate's fields, when it connected over TLS with one */
  certificate?: {
    subject: Record<string, string>; // CommonName, Organization, OrganizationalUnit, Country, ...
    issuer: Record<string, string>;
    serialNumber: string;
    notBefore: string;
    notAfter: string;
  };
}

/** One connection's compiled permissions. `resource` is the full ARN, e.g.
 * `arn:aws:iot:us-east-1:000000000000:topic/devices/d1/telemetry`. */
export interface Permissions {
  /** true when some Allow statement matches and no Deny statement does (explicit Deny wins) */
  allows(action: MqttAction, resource: string): boolean;
}

export interface PolicyEngine {
  /** The policies attached to any of `targets` (principal ARNs, thing group ARNs), with the
   * connection's variables substituted. No attached policy allows nothing, as on AWS. */
  permissionsFor(targets: readonly string[], facts: ConnectionFacts): Permissions;
  /** Increases whenever a policy, its default version or an attachment changes. */
  readonly generation: number;
}
