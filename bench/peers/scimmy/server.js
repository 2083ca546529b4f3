// The scimmy peer for scimkit's comparison benchmark: scimmy-routers on express 4, users and groups held in
// memory, one bearer token. Handlers are the plain ones the scimmy documentation describes: the library
// parses, validates, filters (Filter.match), pages and patches; this file only stores.
// Usage: node server.js PORT TOKEN   (listens on 127.0.0.1 only)
import express from "express";
import SCIMMY from "scimmy";
import SCIMMYRouters from "scimmy-routers";
import {randomUUID} from "node:crypto";

const [port, token] = [Number(process.argv[2] ?? 8092), process.argv[3] ?? "t"];

// One store per resource type: id -> plain object. `unique` maps a lower-cased name to its id.
function declare(Resource, uniqueAttribute) {
    const items = new Map();
    const unique = new Map();
    Resource
        .ingress((resource, instance) => {
            const data = JSON.parse(JSON.stringify(instance));
            const key = String(data[uniqueAttribute] ?? "").toLowerCase();
            const holder = unique.get(key);
            if (holder !== undefined && holder !== resource.id)
                throw new SCIMMY.Types.Error(409, "uniqueness", `${uniqueAttribute} ${data[uniqueAttribute]} is taken`);
            const now = new Date().toISOString();
            const old = resource.id ? items.get(resource.id) : undefined;
            if (resource.id && !old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            if (old) unique.delete(String(old[uniqueAttribute] ?? "").toLowerCase());
            const id = resource.id ?? randomUUID();
            const stored = {...data, id, meta: {created: old?.meta.created ?? now, lastModified: now}};
            items.set(id, stored);
            unique.set(key, id);
            return stored;
        })
        .egress((resource) => {
            if (resource.id) {
                const found = items.get(resource.id);
                if (!found) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
                return found;
            }
            const all = [...items.values()];
            return resource.filter ? resource.filter.match(all) : all;
        })
        .degress((resource) => {
            const old = items.get(resource.id);
            if (!old) throw new SCIMMY.Types.Error(404, null, `Resource ${resource.id} not found`);
            unique.delete(String(old[uniqueAttribute] ?? "").toLowerCase());
            items.delete(resource.id);
        });
    SCIMMY.Resources.declare(Resource);
}

declare(SCIMMY.Resources.User, "userName");
declare(SCIMMY.Resources.Group, "displayName");

const app = express();
app.use("/scim/v2", new SCIMMYRouters({
    type: "bearer",
    handler: (request) => {
        if (request.header("Authorization") !== `Bearer ${token}`) throw new Error("Authorization failed");
        return "bench";
    },
}));
app.listen(port, "127.0.0.1", () => console.log(`scimmy serving on http://127.0.0.1:${port}/scim/v2`));
