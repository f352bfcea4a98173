// A page of domains reads only the columns a list shows when its selection
// asks for nothing else (listDomains' "list" column set, chosen by the
// resolvers from the selection). Whatever one field of Domain, or of its
// administrator, a page asks for, it must answer what the domain query (which
// reads whole rows) answers: a field whose column the page did not read would
// come back null or wrong here.
import { buildSchema, getNamedType, isLeafType, type GraphQLField, type GraphQLObjectType } from "graphql";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { makeAccount, makeDomain, supportAdmin, tokenFor, uniqueName } from "../helpers/factories";
import { useTestApp } from "../helpers/use-test-app";
import type { TestApp } from "../helpers/test-app";

const schema = buildSchema(readFileSync(join(__dirname, "../../schema.graphql"), "utf8"));

/** A field as a selection: a leaf by its name, an object with its own leaves (and required arguments left out: none here has one). */
function selectionOf(field: GraphQLField<unknown, unknown>): string {
  const type = getNamedType(field.type);
  if (isLeafType(type)) return field.name;
  const leaves = Object.values((type as GraphQLObjectType).getFields())
    .filter((inner) => isLeafType(getNamedType(inner.type)) && inner.args.every((arg) => arg.type.toString().endsWith("!") === false))
    .map((inner) => inner.name);
  return `${field.name} { __typename ${leaves.join(" ")} }`;
}

describe("the columns a page of domains reads", () => {
  let app: TestApp;
  useTestApp((started) => ({ app } = started));

  it("answers every Domain field, and every field of its administrator, as the domain query does", async () => {
    const prefix = uniqueName("cols");
    const { domain } = await makeDomain(app, {
      name: `${prefix}-a.example`,
      quotaMb: 4000,
      maxAccounts: 9,
      dnsSetup: "MX_WEB",
      webServerAddress: "192.0.2.10",
      dkimPublicKey: "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
      adminDisplayName: "Admin 陳",
    });
    await makeAccount(app, domain, { quotaMb: 25 });
    await app.deps.db.domain.update({
      where: { id: domain.id },
      data: { dnsCheck: { setup: "MX_WEB", detectedSetup: null, status: "FAIL", findings: [], durationMs: 12 }, dnsCheckedAt: new Date("2026-11-01T02:03:04.005Z") },
    });
    await makeDomain(app, { name: `${prefix}-b.example` });
    const token = await tokenFor(app, await supportAdmin(app));
    const ask = async (query: string, variables: Record<string, unknown> = { search: prefix }) => {
      const response = await app.gql(query, variables, token);
      expect(response.errors).toBeUndefined();
      return response.data;
    };

    const domainType = schema.getType("Domain") as GraphQLObjectType;
    const accountType = schema.getType("Account") as GraphQLObjectType;
    const selections = [...Object.values(domainType.getFields()).map(selectionOf), ...Object.values(accountType.getFields()).map((field) => `admin { ${selectionOf(field)} }`)];
    expect(selections.length).toBeGreaterThan(30);
    for (const selection of selections) {
      const page = await ask(`query($search: String) { domains(search: $search) { nodes { name ${selection} } } }`);
      expect(page.domains.nodes).toHaveLength(2);
      for (const node of page.domains.nodes) {
        const one = await ask(`query($name: String!) { domain(name: $name) { name ${selection} } }`, { name: node.name });
        expect({ selection, node }).toEqual({ selection, node: one.domain });
      }
    }
    // Whole pages that the brief column sets answer (the support IDE's domain search, bench:http's page), and a brief
    // page with one field of the "list" set: as the domain query answers them, field for field.
    for (const selection of [
      "id name unicodeName status quotaMb maxAccounts accountCount allocatedQuotaMb usedMb admin { id address }",
      "id name status quotaMb maxAccounts accountCount allocatedQuotaMb usedMb admin { __typename id address displayName loginName role }",
      "id name status dnsSetup admin { id address domain { name } }",
    ]) {
      const page = await ask(`query($search: String) { domains(search: $search) { totalCount nodes { ${selection} } } }`);
      expect(page.domains.totalCount).toBe(2);
      for (const node of page.domains.nodes) {
        const one = await ask(`query($name: String!) { domain(name: $name) { ${selection} } }`, { name: node.name });
        expect({ selection, node }).toEqual({ selection, node: one.domain });
      }
    }
    // The selections above did reach the columns outside a list's: the stored check and the web server.
    const full = await ask(`query($search: String) { domains(search: $search) { nodes { name webServerAddress lastDnsCheck { checkedAt } admin { createdAt } } } }`);
    expect(full.domains.nodes[0]).toMatchObject({ webServerAddress: "192.0.2.10", lastDnsCheck: { checkedAt: "2026-11-01T02:03:04.005Z" } });
    expect(full.domains.nodes[0].admin.createdAt).toEqual(expect.any(String));
  });
});
