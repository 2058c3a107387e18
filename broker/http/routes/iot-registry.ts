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
import { jsonBody, queryBool, queryInt, queryString, type Query } from '../aws-params.js';
import type { Registry } from '../../registry/index.js';
import type { Http } from '../server.js';

interface ThingParams { thingName: string }
interface TypeParams { thingTypeName: string }
interface GroupParams { thingGroupName: string }
export function iotRegistryRoutes(registry: Registry) {
  return (app: Http) => {
    // ---- things
    app.post<{ Params: ThingParams }>('/things/:thingName', async (req) => registry.createThing(req.params.thingName, jsonBody(req.body)));
    app.get<{ Params: ThingParams }>('/things/:thingName', async (req) => registry.describeThing(req.params.thingName));
    app.patch<{ Params: ThingParams }>('/things/:thingName', async (req) => registry.updateThing(req.params.thingName, jsonBody(req.body)));
    app.delete<{ Params: ThingParams; Querystring: Query }>('/things/:thingName', async (req) =>
      registry.deleteThing(req.params.thingName, queryInt(req.query, 'expectedVersion')));
    app.get<{ Querystring: Query }>('/things', async (req) => {
      const q = req.query;
      return registry.listThings(defined({
        ...paging(q),
        attributeName: queryString(q, 'attributeName'),
        attributeValue: queryString(q, 'attributeValue'),
        thingTypeName: queryString(q, 'thingTypeName'),
        usePrefixAttributeValue: queryBool(q, 'usePrefixAttributeValue'),
      }));
    });
    app.get<{ Params: ThingParams; Querystring: Query }>('/things/:thingName/thing-groups', async (req) =>
      registry.listThingGroupsForThing(req.params.thingName, defined(paging(req.query))));

    // ---- thing types
    app.post<{ Params: TypeParams }>('/thing-types/:thingTypeName', async (req) => registry.createThingType(req.params.thingTypeName, jsonBody(req.body)));
    app.get<{ Params: TypeParams }>('/thing-types/:thingTypeName', async (req) => registry.describeThingType(req.params.thingTypeName));
    app.delete<{ Params: TypeParams }>('/thing-types/:thingTypeName', async (req) => registry.deleteThingType(req.params.thingTypeName));
    app.post<{ Params: TypeParams }>('/thing-types/:thingTypeName/deprecate', async (req) => {
      const undo = jsonBody(req.body).undoDeprecate;
      if (undo !== undefined && typeof undo !== 'boolean') throw new BrokerError('InvalidRequestException', 'undoDeprecate must be true or false');
      return registry.deprecateThingType(req.params.thingTypeName, undo === true);
    });
    app.get<{ Querystring: Query }>('/thing-types', async (req) =>
      registry.listThingTypes(defined({ ...paging(req.query), thingTypeName: queryString(req.query, 'thingTypeName') })));

    // ---- static thing groups (the two membership paths are static segments: fastify matches
    // them before the {thingGroupName} parameter)
    app.put('/thing-groups/addThingToThingGroup', async (req) => registry.addThingToThingGroup(jsonBody(req.body)));
    app.put('/thing-groups/removeThingFromThingGroup', async (req) => registry.removeThingFromThingGroup(jsonBody(req.body)));
    app.post<{ Params: GroupParams }>('/thing-groups/:thingGroupName', async (req) => registry.createThingGroup(req.params.thingGroupName, jsonBody(req.body)));
    app.get<{ Params: GroupParams }>('/thing-groups/:thingGroupName', async (req) => registry.describeThingGroup(req.params.thingGroupName));
    app.patch<{ Params: GroupParams }>('/thing-groups/:thingGroupName', async (req) => registry.updateThingGroup(req.params.thingGroupName, jsonBody(req.body)));
    app.delete<{ Params: GroupParams; Querystring: Query }>('/thing-groups/:thingGroupName', async (req) =>
      registry.deleteThingGroup(req.params.thingGroupName, queryInt(req.query, 'expectedVersion')));
    app.get<{ Querystring: Query }>('/thing-groups', async (req) => {
      const q = req.query;
      return registry.listThingGroups(defined({
        ...paging(q), parentGroup: queryString(q, 'parentGroup'), namePrefixFilter: queryString(q, 'namePrefixFilter'), recursive: queryBool(q, 'recursive'),
      }));
    });
    app.get<{ Params: GroupParams; Querystring: Query }>('/thing-groups/:thingGroupName/things', async (req) =>
      registry.listThingsInThingGroup(req.params.thingGroupName, defined({ ...paging(req.query), recursive: queryBool(req.query, 'recursive') })));
  };
}

function paging(q: Query) {
  return { maxResults: queryInt(q, 'maxResults'), nextToken: queryString(q, 'nextToken') };
}

/** Drops undefined members, so the registry sees only what the request sent. */
function defined<T extends object>(o: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as never;
}
