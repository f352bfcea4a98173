// Hostile input for the alias operations, on both databases: whatever the
// local part and destinations, createAlias, updateAlias and setForwarding
// answer with data or a known error code naming a field, never a server
// error; a refusal changes nothing, an acceptance stores exactly what it says.
import fc from "fast-check";
import { makeAccount, makeDomain } from "../helpers/factories";
import type { TestApp } from "../helpers/test-app";
import { useTestApp } from "../helpers/use-test-app";

const KNOWN_CODES = ["BAD_USER_INPUT", "CONFLICT", "QUOTA_EXCEEDED", "NOT_FOUND", "FORBIDDEN"];

describe("hostile input for aliases and forwarding", () => {
  let app: TestApp;
  let support: string;
  useTestApp((started) => {
    app = started.app;
    support = started.support;
  });

  it("createAlias and setForwarding never fail the server; a refusal changes nothing and names its field", async () => {
    const { domain } = await makeDomain(app);
    const amy = await makeAccount(app, domain, { quotaMb: 10 });
    const hostedLike = fc.constantFrom(amy.address, `ghost@${domain.name}`, amy.address.toUpperCase(), `${amy.localPart}@${domain.name}.`);
    const externalLike = fc.oneof(fc.emailAddress(), fc.constantFrom("a@b", "@x.example", "x@", "a b@c.example", "\u0000@x.example", "é@例子.测试", `${"a".repeat(65)}@x.example`));
    const destination = fc.oneof(hostedLike, externalLike, fc.string({ maxLength: 40 }));
    const destinations = fc.array(destination, { maxLength: 60 });
    const localPart = fc.oneof(fc.string({ maxLength: 70 }), fc.constantFrom("sales", amy.localPart, "a..b", ".x", "x.", "UPPER", "ünï"));
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(localPart, destinations, fc.boolean(), async (part, list, keepCopy) => {
        const before = await app.deps.db.alias.count({ where: { domainId: domain.id } });
        const auditBefore = await app.deps.db.auditEntry.count({ where: { domainId: domain.id } });
        const created = await app.gql(
          `mutation($i: CreateAliasInput!) { createAlias(input: $i) { alias { id address destinations } } }`,
          {
            i: { domainId: domain.id, localPart: part, destinations: list },
          },
          support,
        );
        expect(created.status).toBeLessThan(500);
        if (created.errors) {
          expect(KNOWN_CODES).toContain(created.errors[0]!.extensions.code);
          expect(created.errors[0]!.extensions.field).toEqual(expect.any(String));
          expect(await app.deps.db.alias.count({ where: { domainId: domain.id } })).toBe(before);
          expect(await app.deps.db.auditEntry.count({ where: { domainId: domain.id } })).toBe(auditBefore);
        } else {
          accepted++;
          const alias = created.data.createAlias.alias;
          const stored = await app.deps.db.alias.findUniqueOrThrow({ where: { id: alias.id } });
          expect(stored.destinations).toEqual(alias.destinations);
          expect(stored.destinations.every((address) => address === address.toLowerCase() && address.includes("@"))).toBe(true);
          await app.deps.db.alias.delete({ where: { id: alias.id } });
        }
        const forwarded = await app.gql(
          `mutation($id: ID!, $to: [String!]!, $k: Boolean) { setForwarding(accountId: $id, destinations: $to, keepCopy: $k) { account { forwarding { destinations } } } }`,
          {
            id: amy.id,
            to: list,
            k: keepCopy,
          },
          support,
        );
        expect(forwarded.status).toBeLessThan(500);
        if (forwarded.errors) expect(KNOWN_CODES).toContain(forwarded.errors[0]!.extensions.code);
        await app.deps.db.account.update({ where: { id: amy.id }, data: { forwardTo: [], forwardKeepCopy: true } });
      }),
      {
        numRuns: 120,
        examples: [
          ["sales", [amy.address], true],
          ["sales", ["partner@outside.example", amy.address.toUpperCase()], false],
          ["info", [" x@outside.example "], true],
        ],
      },
    );
    // The examples alone are accepted: the acceptance branch always ran.
    expect(accepted).toBeGreaterThanOrEqual(3);
  }, 180_000);
});
