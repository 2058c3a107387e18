// The AWS IoT device registry API (control plane, restJson1, as `@aws-sdk/client-iot` calls it;
// spec §3.1–3.3). Registered in the AWS scope of http/server.ts, which gives errors the AWS shape.
// Paths, methods and query names are those of the SDK's operation schemas.
//   POST/GET/PATCH/DELETE /things/{thingName}                 CreateThing, DescribeThing, UpdateThing, DeleteThing (?expectedVersion)
//   GET    /things?maxResults&nextToken&attributeName&attributeValue&thingTypeName&usePrefixAttributeValue   ListThings
//   GET    /things/{thingName}/thing-groups?maxResults&nextToken  ListThingGroupsForThing
//   POST/GET/DELETE /thing-types/{thingTypeName}              CreateThingType, DescribeThingType, DeleteThingType
//   POST   /thing-types/{thingTypeName}/deprecate             DeprecateThingType {undoDeprecate?}
//   GET    /thing-types?maxResults&nextToken&thingTypeName    ListThingTypes
//   POST/GET/PATCH/DELETE /thing-groups/{thingGroupName}      CreateThingGroup, DescribeThingGroup, UpdateThingGroup, DeleteThingGroup (?expectedVersion)
//   GET    /thing-groups?maxResults&nextToken&parentGroup&namePrefixFilter&recursive   ListThingGroups
//   PUT    /thing-groups/addThingToThingGroup | /thing-groups/removeThingFromThingGroup
//   GET    /thing-groups/{thingGroupName}/things?recursive&maxResults&nextToken   ListThingsInThingGroup
// The request bodies go to the registry as they are: it validates them (the same checks apply
// to the configuration file's resources).
import { BrokerError } from '../../errors.js';
import type { Registry } from '../../registry/index.js';
import type { Http } from '../server.js';

interface ThingParams { thingName: string }
interface TypeParams { thingTypeName: string }
interface GroupParams { thingGroupName: string }
type Query = Record<string, unknown>;

export function iotRegistryRoutes(registry: Registry) {
  return (app: Http) => {
    // ---- things
    app.post<{ Params: ThingParams }>('/things/:thingName', async (req) => registry.createThing(req.params.thingName, body(req.body)));
    app.get<{ Params: ThingParams }>('/things/:thingName', async (req) => registry.describeThing(req.params.thingName));
    app.patch<{ Params: ThingParams }>('/things/:thingName', async (req) => registry.updateThing(req.params.thingName, body(req.body)));
    app.delete<{ Params: ThingParams; Querystring: Query }>('/things/:thingName', async (req) =>
      registry.deleteThing(req.params.thingName, int(req.query, 'expectedVersion')));
    app.get<{ Querystring: Query }>('/things', async (req) => {
      const q = req.query;
      return registry.listThings(defined({
        ...paging(q),
        attributeName: str(q, 'attributeName'),
        attributeValue: str(q, 'attributeValue'),
        thingTypeName: str(q, 'thingTypeName'),
        usePrefixAttributeValue: bool(q, 'usePrefixAttributeValue'),
      }));
    });
    app.get<{ Params: ThingParams; Querystring: Query }>('/things/:thingName/thing-groups', async (req) =>
      registry.listThingGroupsForThing(req.params.thingName, defined(paging(req.query))));

    // ---- thing types
    app.post<{ Params: TypeParams }>('/thing-types/:thingTypeName', async (req) => registry.createThingType(req.params.thingTypeName, body(req.body)));
    app.get<{ Params: TypeParams }>('/thing-types/:thingTypeName', async (req) => registry.describeThingType(req.params.thingTypeName));
    app.delete<{ Params: TypeParams }>('/thing-types/:thingTypeName', async (req) => registry.deleteThingType(req.params.thingTypeName));
    app.post<{ Params: TypeParams }>('/thing-types/:thingTypeName/deprecate', async (req) => {
      const undo = body(req.body).undoDeprecate;
      if (undo !== undefined && typeof undo !== 'boolean') throw new BrokerError('InvalidRequestException', 'undoDeprecate must be true or false');
      return registry.deprecateThingType(req.params.thingTypeName, undo === true);
    });
    app.get<{ Querystring: Query }>('/thing-types', async (req) =>
      registry.listThingTypes(defined({ ...paging(req.query), thingTypeName: str(req.query, 'thingTypeName') })));

    // ---- static thing groups (the two membership paths are static segments: fastify matches
    // them before the {thingGroupName} parameter)
    app.put('/thing-groups/addThingToThingGroup', async (req) => registry.addThingToThingGroup(body(req.body)));
    app.put('/thing-groups/removeThingFromThingGroup', async (req) => registry.removeThingFromThingGroup(body(req.body)));
    app.post<{ Params: GroupParams }>('/thing-groups/:thingGroupName', async (req) => registry.createThingGroup(req.params.thingGroupName, body(req.body)));
    app.get<{ Params: GroupParams }>('/thing-groups/:thingGroupName', async (req) => registry.describeThingGroup(req.params.thingGroupName));
    app.patch<{ Params: GroupParams }>('/thing-groups/:thingGroupName', async (req) => registry.updateThingGroup(req.params.thingGroupName, body(req.body)));
    app.delete<{ Params: GroupParams; Querystring: Query }>('/thing-groups/:thingGroupName', async (req) =>
      registry.deleteThingGroup(req.params.thingGroupName, int(req.query, 'expectedVersion')));
    app.get<{ Querystring: Query }>('/thing-groups', async (req) => {
      const q = req.query;
      return registry.listThingGroups(defined({
        ...paging(q), parentGroup: str(q, 'parentGroup'), namePrefixFilter: str(q, 'namePrefixFilter'), recursive: bool(q, 'recursive'),
      }));
    });
    app.get<{ Params: GroupParams; Querystring: Query }>('/thing-groups/:thingGroupName/things', async (req) =>
      registry.listThingsInThingGroup(req.params.thingGroupName, defined({ ...paging(req.query), recursive: bool(req.query, 'recursive') })));
  };
}

/** A JSON object body; a bodiless request is {}. */
function body(raw: unknown): Record<string, never> {
  if (raw === undefined || raw === null || raw === '') return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BrokerError('InvalidRequestException', 'the request body must be a JSON object');
  return raw as Record<string, never>;
}

function str(q: Query, name: string): string | undefined {
  const v = q[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new BrokerError('InvalidRequestException', `${name} must be given once`);
  return v;
}

function int(q: Query, name: string): number | undefined {
  const s = str(q, name);
  if (s === undefined) return undefined;
  if (!/^\d{1,15}$/.test(s)) throw new BrokerError('InvalidRequestException', `${name} must be a whole number, got '${s}'`);
  return Number(s);
}

function bool(q: Query, name: string): boolean | undefined {
  const s = str(q, name);
  if (s === undefined) return undefined;
  if (s !== 'true' && s !== 'false') throw new BrokerError('InvalidRequestException', `${name} must be true or false, got '${s}'`);
  return s === 'true';
}

function paging(q: Query) {
  return { maxResults: int(q, 'maxResults'), nextToken: str(q, 'nextToken') };
}

/** Drops undefined members, so the registry sees only what the request sent. */
function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}
