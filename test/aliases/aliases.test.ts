// The rules of aliases, forwarding, catch-all and alias domains, through the
// API on both databases: what is refused (with its code and field), what a
// deletion does to the addresses that pointed at it, and what is audited.
// test/mailstack/aliases.test.ts shows the same objects at work in Postfix.
import { makeAccount, makeDomain, tokenFor, uniqueName } from "../helpers/factories";
import { errorCode, type TestApp } from "../helpers/test-app";
import { useTestApp } from "../helpers/use-test-app";

const CREATE = `mutation($input: CreateAliasInput!) { createAlias(input: $input) { alias { id address destinations } warnings { code } } }`;
const UPDATE = `mutation($id: ID!, $to: [String!]) { updateAlias(id: $id, input: { destinations: $to }) { alias { id destinations } } }`;
const FORWARD = `mutation($id: ID!, $to: [String!]!, $keep: Boolean) { setForwarding(accountId: $id, destinations: $to, keepCopy: $keep) { account { forwarding { destinations keepCopy } } warnings { code } } }`;

describe("aliases, forwarding, catch-all and alias domains: the rules", () => {
  let app: TestApp;
  let support: string;
  useTestApp((started) => {
    app = started.app;
    support = started.support;
  });

  const create = (domainId: string, localPart: string, destinations: string[], token = support) => app.gql(CREATE, { input: { domainId, localPart, destinations } }, token);
  const fieldOf = (response: { errors?: { extensions: { field?: string } }[] }) => response.errors?.[0]?.extensions.field;

  it("creates, reads, lists, changes and deletes an alias, normalising its destinations, each change audited", async () => {
    const { domain, admin } = await makeDomain(app);
    const amy = await makeAccount(app, domain, { quotaMb: 10 });
    const token = await tokenFor(app, admin);
    const created = await create(domain.id, "Sales", [amy.address.toUpperCase(), " partner@Outside.Example ", amy.address], token);
    expect(created.errors).toBeUndefined();
    const alias = created.data.createAlias.alias;
    expect(alias).toMatchObject({ address: `sales@${domain.name}`, destinations: [amy.address, "partner@outside.example"] });

    const read = await app.gql(`query($a: String) { alias(address: $a) { id domain { name } } }`, { a: `SALES@${domain.name}` }, token);
    expect(read.data.alias).toEqual({ id: alias.id, domain: { name: domain.name } });
    const listed = await app.gql(`query($id: ID) { domain(id: $id) { aliases(search: "partner@outside.example") { totalCount nodes { address } } } }`, { id: domain.id }, token);
    expect(listed.data.domain.aliases).toEqual({ totalCount: 1, nodes: [{ address: alias.address }] });

    const changed = await app.gql(UPDATE, { id: alias.id, to: [amy.address] }, token);
    expect(changed.data.updateAlias.alias.destinations).toEqual([amy.address]);
    const deleted = await app.gql(`mutation($id: ID!) { deleteAlias(id: $id) { address warnings { code } } }`, { id: alias.id }, token);
    expect(deleted.data.deleteAlias).toEqual({ address: alias.address, warnings: [] });
    const trail = await app.deps.db.auditEntry.findMany({ where: { objectId: alias.id }, orderBy: { id: "asc" } });
    expect(trail.map((entry) => [entry.action, entry.actorName])).toEqual([
      ["alias.create", admin.address],
      ["alias.update", admin.address],
      ["alias.delete", admin.address],
    ]);
    expect(trail[1]!.changes).toEqual([{ field: "destinations", before: `${amy.address}, partner@outside.example`, after: amy.address }]);
  });

  it("never lets an alias and a mailbox share an address, either way round", async () => {
    const { domain } = await makeDomain(app);
    const amy = await makeAccount(app, domain, { quotaMb: 10 });
    const shadow = await create(domain.id, amy.localPart, ["x@outside.example"]);
    expect(errorCode(shadow)).toBe("CONFLICT");
    expect(fieldOf(shadow)).toBe("localPart");
    expect(shadow.errors![0]!.message).toMatch(/is a mailbox/);
    expect((await create(domain.id, "team", ["x@outside.example"])).errors).toBeUndefined();
    const mailbox = await app.gql(
      `mutation($input: CreateAccountInput!) { createAccount(input: $input) { account { id } } }`,
      { input: { domainId: domain.id, localPart: "team", password: "a long enough password" } },
      support,
    );
    expect(errorCode(mailbox)).toBe("CONFLICT");
    expect(fieldOf(mailbox)).toBe("localPart");
    expect(await app.deps.db.account.count({ where: { address: `team@${domain.name}` } })).toBe(0);
  });

  it("checks destinations: syntax, hosted ones must receive mail, external ones only where allowed, limits", async () => {
    const { domain } = await makeDomain(app);
    const admin = (await app.deps.db.domainAdmin.findUniqueOrThrow({ where: { domainId: domain.id }, include: { account: true } })).account;
    const bad = await create(domain.id, "a", ["not an address"]);
    expect([errorCode(bad), fieldOf(bad)]).toEqual(["BAD_USER_INPUT", "destinations"]);
    const ghost = await create(domain.id, "a", [`ghost@${domain.name}`]);
    expect([errorCode(ghost), fieldOf(ghost)]).toEqual(["BAD_USER_INPUT", "destinations"]);
    expect(ghost.errors![0]!.message).toMatch(/no mailbox, forwarding or alias receives mail there/);
    // The administrator's login has no mailbox (quota 0): not a destination.
    expect(errorCode(await create(domain.id, "a", [admin.address]))).toBe("BAD_USER_INPUT");
    expect(errorCode(await create(domain.id, "a", []))).toBe("BAD_USER_INPUT");

    const limits = await app.gql(
      `mutation($id: ID!) { updateDomain(id: $id, input: { allowExternalForwarding: false, maxAliases: 1, maxDestinations: 2 }) { domain { allowExternalForwarding maxAliases maxDestinations } } }`,
      { id: domain.id },
      support,
    );
    expect(limits.data.updateDomain.domain).toEqual({ allowExternalForwarding: false, maxAliases: 1, maxDestinations: 2 });
    const external = await create(domain.id, "a", ["someone@outside.example"]);
    expect([errorCode(external), fieldOf(external)]).toEqual(["BAD_USER_INPUT", "destinations"]);
    expect(external.errors![0]!.message).toMatch(/does not allow forwarding to external addresses/);
    const amy = await makeAccount(app, domain, { quotaMb: 1 });
    const bob = await makeAccount(app, domain, { quotaMb: 1 });
    const carl = await makeAccount(app, domain, { quotaMb: 1 });
    expect(errorCode(await create(domain.id, "a", [amy.address, bob.address, carl.address]))).toBe("QUOTA_EXCEEDED");
    expect((await create(domain.id, "a", [amy.address, bob.address])).errors).toBeUndefined();
    const second = await create(domain.id, "b", [amy.address]);
    expect([errorCode(second), fieldOf(second)]).toEqual(["QUOTA_EXCEEDED", "domainId"]);
    expect(await app.deps.db.alias.count({ where: { domainId: domain.id } })).toBe(1);
  });

  it("refuses a loop through aliases and forwardings, naming the chain, and changes nothing", async () => {
    const { domain } = await makeDomain(app);
    const amy = await makeAccount(app, domain, { quotaMb: 10 });
    const one = (await create(domain.id, "one", [amy.address])).data.createAlias.alias;
    const two = (await create(domain.id, "two", [one.address])).data.createAlias.alias;
    // one -> two -> one
    const loop = await app.gql(UPDATE, { id: one.id, to: [two.address] }, support);
    expect([errorCode(loop), fieldOf(loop)]).toEqual(["BAD_USER_INPUT", "destinations"]);
    expect(loop.errors![0]!.message).toContain(`${one.address} → ${two.address} → ${one.address}`);
    // amy forwards to two, which goes to one, which goes to amy.
    const forwarded = await app.gql(FORWARD, { id: amy.id, to: [two.address], keep: false }, support);
    expect(forwarded.errors![0]!.message).toContain(`${amy.address} → ${two.address} → ${one.address} → ${amy.address}`);
    expect((await app.deps.db.alias.findUniqueOrThrow({ where: { id: one.id } })).destinations).toEqual([amy.address]);
    expect((await app.deps.db.account.findUniqueOrThrow({ where: { id: amy.id } })).forwardTo).toEqual([]);
    // Keeping a copy of one's own mail is not a loop.
    expect((await app.gql(FORWARD, { id: amy.id, to: [amy.address, "x@outside.example"], keep: true }, support)).data.setForwarding.account.forwarding).toEqual({
      destinations: ["x@outside.example"],
      keepCopy: true,
    });
  });

  it("lets a user forward its own mail, warns when no copy is kept, and turns forwarding off with an empty list", async () => {
    const { domain } = await makeDomain(app);
    const amy = await makeAccount(app, domain, { quotaMb: 10 });
    const token = await tokenFor(app, amy);
    const on = await app.gql(FORWARD, { id: amy.id, to: ["me@outside.example"], keep: false }, token);
    expect(on.data.setForwarding).toEqual({ account: { forwarding: { destinations: ["me@outside.example"], keepCopy: false } }, warnings: [{ code: "NO_COPY_KEPT" }] });
    const off = await app.gql(FORWARD, { id: amy.id, to: [] }, token);
    expect(off.data.setForwarding.account.forwarding).toBeNull();
    const aliasByUser = await create(domain.id, "mine", [amy.address], token);
    expect(errorCode(aliasByUser)).toBe("FORBIDDEN");
  });

  it("sets, shows and turns off an out-of-office reply, checking its text and period, audited", async () => {
    const { domain } = await makeDomain(app);
    const amy = await makeAccount(app, domain, { quotaMb: 10 });
    const token = await tokenFor(app, amy);
    const SET = `mutation($id: ID!, $input: AutoReplyInput) { setAutoReply(accountId: $id, input: $input) { account { autoReply { subject body startsAt endsAt daysBetweenReplies } } warnings { code } } }`;
    const on = await app.gql(
      SET,
      { id: amy.id, input: { subject: " Away ", body: "Back soon.\r\nAmy", startsAt: "2026-12-24T00:00:00+08:00", endsAt: "2027-01-02T00:00:00+08:00", daysBetweenReplies: 3 } },
      token,
    );
    expect(on.errors).toBeUndefined();
    expect(on.data.setAutoReply.account.autoReply).toEqual({
      subject: "Away",
      body: "Back soon.\nAmy",
      startsAt: "2026-12-23T16:00:00.000Z",
      endsAt: "2027-01-01T16:00:00.000Z",
      daysBetweenReplies: 3,
    });
    const refusals: [Record<string, unknown>, string][] = [
      [{ subject: "", body: "x" }, "input.subject"],
      [{ subject: "two\nlines", body: "x" }, "input.subject"],
      [{ subject: "x", body: "   " }, "input.body"],
      [{ subject: "x", body: "x", startsAt: "2027-01-02T00:00:00Z", endsAt: "2027-01-01T00:00:00Z" }, "input.endsAt"],
      [{ subject: "x", body: "x", daysBetweenReplies: 0 }, "input.daysBetweenReplies"],
    ];
    for (const [input, field] of refusals) {
      const refused = await app.gql(SET, { id: amy.id, input }, token);
      expect([errorCode(refused), fieldOf(refused)]).toEqual(["BAD_USER_INPUT", field]);
    }
    const off = await app.gql(SET, { id: amy.id, input: null }, token);
    expect(off.data.setAutoReply.account.autoReply).toBeNull();
    const trail = await app.deps.db.auditEntry.findMany({ where: { objectId: amy.id, action: "account.set_auto_reply" } });
    expect(trail).toHaveLength(2);
    // Another domain's administrator cannot even see the account.
    const other = await makeDomain(app);
    expect(errorCode(await app.gql(SET, { id: amy.id, input: { subject: "x", body: "x" } }, await tokenFor(app, other.admin)))).toBe("NOT_FOUND");
  });

  it("deleting a mailbox lets go of it everywhere, saying what happened to each alias, forwarding and catch-all", async () => {
    const { domain } = await makeDomain(app);
    const amy = await makeAccount(app, domain, { quotaMb: 10 });
    const bob = await makeAccount(app, domain, { quotaMb: 10 });
    const only = (await create(domain.id, "only", [amy.address])).data.createAlias.alias;
    const both = (await create(domain.id, "both", [amy.address, bob.address])).data.createAlias.alias;
    await app.gql(FORWARD, { id: bob.id, to: [amy.address], keep: true }, support);
    await app.gql(`mutation($d: ID!, $to: String) { setCatchAll(domainId: $d, destination: $to) { domain { id } } }`, { d: domain.id, to: amy.address }, support);
    const deleted = await app.gql(`mutation($id: ID!) { deleteAccount(id: $id) { address warnings { code message } } }`, { id: amy.id }, support);
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data.deleteAccount.warnings.map((warning: { code: string }) => warning.code).sort()).toEqual([
      "ALIAS_DELETED",
      "ALIAS_DESTINATION_REMOVED",
      "CATCH_ALL_OFF",
      "FORWARDING_DESTINATION_REMOVED",
    ]);
    expect(await app.deps.db.alias.findUnique({ where: { id: only.id } })).toBeNull();
    expect((await app.deps.db.alias.findUniqueOrThrow({ where: { id: both.id } })).destinations).toEqual([bob.address]);
    expect((await app.deps.db.account.findUniqueOrThrow({ where: { id: bob.id } })).forwardTo).toEqual([]);
    expect((await app.deps.db.domain.findUniqueOrThrow({ where: { id: domain.id } })).catchAll).toBeNull();
  });

  it("adds and removes alias domains: never a hosted domain's name, never two domains', and a hosted domain cannot take one's name", async () => {
    const { domain } = await makeDomain(app);
    const other = await makeDomain(app);
    const name = `${uniqueName("alias")}.example`;
    const add = (domainId: string, aliasName: string) =>
      app.gql(
        `mutation($d: ID!, $n: String!) { addAliasDomain(domainId: $d, name: $n) { domain { aliasDomains { name unicodeName domain { id } } } } }`,
        { d: domainId, n: aliasName },
        support,
      );
    expect((await add(domain.id, name.toUpperCase())).data.addAliasDomain.domain.aliasDomains).toEqual([{ name, unicodeName: name, domain: { id: domain.id } }]);
    // What the customer publishes for it: the domain's set-up under the alias domain's name.
    const records = await app.gql(`query($id: ID) { domain(id: $id) { aliasDomains { expectedDnsRecords { zoneFile } } } }`, { id: domain.id }, support);
    const zone = records.data.domain.aliasDomains[0].expectedDnsRecords.zoneFile as string;
    expect(zone).toMatch(new RegExp(`^${name.replace(/\./g, "\\.")}\\.\\s.*\\sMX\\s`, "m"));
    expect(zone).not.toContain(domain.name);
    expect([errorCode(await add(other.domain.id, name)), fieldOf(await add(other.domain.id, name))]).toEqual(["CONFLICT", "name"]);
    expect(errorCode(await add(domain.id, other.domain.name))).toBe("CONFLICT");
    const taken = await app.gql(
      `mutation($input: CreateDomainInput!) { createDomain(input: $input) { domain { id } } }`,
      { input: { name, adminPassword: "a long enough password" } },
      support,
    );
    expect(errorCode(taken)).toBe("CONFLICT");
    const removed = await app.gql(`mutation($n: String!) { removeAliasDomain(name: $n) { domain { aliasDomains { name } } } }`, { n: name }, support);
    expect(removed.data.removeAliasDomain.domain.aliasDomains).toEqual([]);
    expect(errorCode(await app.gql(`mutation($n: String!) { removeAliasDomain(name: $n) { domain { id } } }`, { n: name }, support))).toBe("NOT_FOUND");
  });
});

describe("REST: /api/v1/domains/{name}/aliases", () => {
  let app: TestApp;
  let support: string;
  useTestApp((started) => {
    app = started.app;
    support = started.support;
  });

  const call = async (method: string, path: string, token: string, body?: unknown) => {
    const response = await fetch(`${app.url}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, location: response.headers.get("location"), body: (await response.json()) as any };
  };

  it("creates with PUT (201), replaces with the same PUT idempotently (200, one audit record), reads, lists and deletes", async () => {
    const { domain, admin } = await makeDomain(app);
    const amy = await makeAccount(app, domain, { quotaMb: 10 });
    const token = await tokenFor(app, admin);
    const path = `/domains/${domain.name}/aliases/Sales`;
    const created = await call("PUT", path, token, { destinations: [amy.address] });
    expect(created.status).toBe(201);
    expect(created.location).toBe(`/api/v1/domains/${domain.name}/aliases/sales`);
    expect(created.body).toMatchObject({ created: true, warnings: [], alias: { address: `sales@${domain.name}`, domain: domain.name, destinations: [amy.address] } });
    const again = await call("PUT", path, token, { destinations: [amy.address] });
    expect(again.status).toBe(200);
    expect(again.body.created).toBe(false);
    const changed = await call("PUT", path, token, { destinations: ["x@outside.example", amy.address] });
    expect(changed.body.alias.destinations).toEqual(["x@outside.example", amy.address]);
    const audit = await app.deps.db.auditEntry.findMany({ where: { objectId: created.body.alias.id } });
    expect(audit.map((entry) => entry.action).sort()).toEqual(["alias.create", "alias.update"]);

    expect((await call("GET", path, token)).body.alias.id).toBe(created.body.alias.id);
    const listed = await call("GET", `/domains/${domain.name}/aliases?search=sales`, token);
    expect(listed.status).toBe(200);
    expect(listed.body.totalCount).toBe(1);
    const deleted = await call("DELETE", path, token);
    expect(deleted.body).toEqual({ deletedAliasId: created.body.alias.id, address: `sales@${domain.name}`, warnings: [] });
    expect((await call("GET", path, token)).status).toBe(404);
  });

  it("answers a refused alias with a problem naming the field, and another domain's with 404", async () => {
    const { domain } = await makeDomain(app);
    const other = await makeDomain(app);
    const bad = await call("PUT", `/domains/${domain.name}/aliases/a`, support, { destinations: [`ghost@${domain.name}`] });
    expect(bad.status).toBe(400);
    expect(bad.body.field).toBe("destinations");
    const otherToken = await tokenFor(app, other.admin);
    expect((await call("PUT", `/domains/${domain.name}/aliases/a`, otherToken, { destinations: ["x@outside.example"] })).status).toBe(404);
    expect(await app.deps.db.alias.count({ where: { domainId: domain.id } })).toBe(0);
  });
});
