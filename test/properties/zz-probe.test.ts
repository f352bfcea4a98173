import { startTestApp, type TestApp } from "../helpers/test-app";
import { makeAccount, makeDomain, PASSWORD, supportAdmin, tokenFor } from "../helpers/factories";

it("probe", async () => {
  const app: TestApp = await startTestApp();
  const token = await tokenFor(app, await supportAdmin(app));
  const { domain } = await makeDomain(app);
  const acct = await makeAccount(app, domain);
  const probes: [string, string, Record<string, unknown>][] = [
    ["after AA", `query($after: String){ domains(after: $after){ totalCount } }`, { after: "AA" }],
    ["after /w==", `query($after: String){ domains(after: $after){ totalCount } }`, { after: "_w" }],
    ["search \\\\", `query($s: String){ domains(search: $s){ totalCount } }`, { s: "\\" }],
    ["search a\\\\", `query($s: String){ domains(search: $s){ totalCount } }`, { s: "a\\" }],
    ["search lone", `query($s: String){ domains(search: $s){ totalCount } }`, { s: "\ud800" }],
    ["search %", `query($s: String){ domains(search: $s){ totalCount nodes { name } } }`, { s: "%" }],
    ["search _", `query($s: String){ domains(search: $s){ totalCount } }`, { s: "_" }],
    ["accounts search \\\\", `query($id: ID, $s: String){ domain(id: $id){ accounts(search: $s){ totalCount } } }`, { id: domain.id, s: "\\" }],
    ["accounts after AA", `query($id: ID, $s: String){ domain(id: $id){ accounts(after: $s){ totalCount } } }`, { id: domain.id, s: "AA" }],
    ["domain id NUL", `query($id: ID){ domain(id: $id){ id } }`, { id: "\u0000" }],
    ["domain id lone", `query($id: ID){ domain(id: $id){ id } }`, { id: "\ud800" }],
    ["account id NUL", `query($id: ID){ account(id: $id){ id } }`, { id: "a\u0000" }],
    ["account addr lone", `query($a: String){ account(address: $a){ id } }`, { a: "\ud800@x.com" }],
    ["domain name lone", `query($a: String){ domain(name: $a){ id } }`, { a: "a\ud800.com" }],
    ["auditLog objectId NUL", `query($a: ID){ auditLog(objectId: $a){ totalCount } }`, { a: "\u0000" }],
    ["auditLog action NUL", `query($a: String){ auditLog(action: $a){ totalCount } }`, { a: "\u0000" }],
    ["auditLog after AA", `query($a: String){ auditLog(after: $a){ totalCount } }`, { a: "AA" }],
    ["createAccount domainId NUL", `mutation($i: CreateAccountInput!){ createAccount(input: $i){ account { id } } }`, { i: { domainId: "\u0000", localPart: "a", password: PASSWORD } }],
    ["createAccount displayName lone", `mutation($i: CreateAccountInput!){ createAccount(input: $i){ account { id } } }`, { i: { domainId: domain.id, localPart: "lone", password: PASSWORD, displayName: "\ud800" } }],
    ["createAccount password lone", `mutation($i: CreateAccountInput!){ createAccount(input: $i){ account { id } } }`, { i: { domainId: domain.id, localPart: "lonepw", password: "\ud800".repeat(12) } }],
    ["updateAccount id NUL", `mutation($id: ID!){ updateAccount(id: $id, input: {}){ account { id } } }`, { id: "\u0000" }],
    ["updateAccount displayName lone", `mutation($id: ID!, $n: String){ updateAccount(id: $id, input: { displayName: $n }){ account { id } } }`, { id: acct.id, n: "x\udc00" }],
    ["updateDomain id NUL", `mutation($id: ID!){ updateDomain(id: $id, input: {}){ domain { id } } }`, { id: "\u0000" }],
    ["deleteDomain id NUL", `mutation($id: ID!){ deleteDomain(id: $id){ name } }`, { id: "\u0000" }],
    ["deleteAccount id NUL", `mutation($id: ID!){ deleteAccount(id: $id){ address } }`, { id: "\u0000" }],
    ["setAccountPassword id NUL", `mutation($id: ID!){ setAccountPassword(id: $id, password: "0123456789ab"){ account { id } } }`, { id: "\u0000" }],
    ["reassign id NUL", `mutation($id: ID!){ reassignDomainAdmin(domainId: $id, accountId: $id){ admin { id } } }`, { id: "\u0000" }],
    ["login lone", `mutation($i: String!){ login(identifier: $i, password: "0123456789ab"){ token } }`, { i: "\ud800" }],
    ["login NUL", `mutation($i: String!){ login(identifier: $i, password: "0123456789ab"){ token } }`, { i: "\u0000" }],
  ];
  for (const [name, q, v] of probes) {
    const before = app.logLines.length;
    const r = await app.gql(q, v, token);
    const logs = app.logLines.slice(before).filter((l) => l.includes("unexpected error")).map((l) => { const j = JSON.parse(l); return (j.err?.message ?? "").split("\n").slice(-3).join(" | ").slice(0, 300) + " @ " + (j.err?.stack ?? "").split("\n").filter((s: string) => s.includes("/src/")).slice(0, 3).join(" < ").slice(0, 400); });
    console.log(name, r.status, JSON.stringify(r.errors?.map((e) => e.extensions.code) ?? "ok"), logs.join("\n   "));
  }
  await app.close();
}, 60000);
