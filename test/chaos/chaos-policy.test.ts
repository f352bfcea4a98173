// The chaos model's copy of "who may do what" (test/helpers/chaos/policy.ts,
// written from docs/authorization.md) gives the same answer as the policy
// table the services ask (src/auth/policy.ts), for every action the chaos run
// sends, every role and every kind of target: may act, FORBIDDEN or
// NOT_FOUND. The two are kept apart on purpose (a wrong rule in the service
// must show as a wrong answer in the run); this test keeps them from drifting.
import { AppError } from "../../src/errors";
import { authorize, type Target } from "../../src/auth/policy";
import type { Principal as ServerPrincipal } from "../../src/auth/principal";
import { MODEL_POLICY, refusalOf, type ModelAction } from "../helpers/chaos/policy";
import type { Principal as ModelPrincipal } from "../helpers/chaos/model";

const principals: Record<string, ModelPrincipal> = {
  "support staff": { kind: "support", id: "s1", role: "SUPPORT_ADMIN" },
  "the administrator of d1": { kind: "account", id: "a1", role: "DOMAIN_ADMIN", domainId: "d1" },
  "an ordinary account of d1": { kind: "account", id: "u1", role: "USER", domainId: "d1" },
  "the administrator of d2": { kind: "account", id: "a2", role: "DOMAIN_ADMIN", domainId: "d2" },
  "an ordinary account of d2": { kind: "account", id: "u2", role: "USER", domainId: "d2" },
};

const targets: Record<string, Target> = {
  nothing: {},
  "domain d1": { domainId: "d1" },
  "an unknown domain": { domainId: "unknown" },
  "d1's administrator": { domainId: "d1", accountId: "a1" },
  "d1's ordinary account": { domainId: "d1", accountId: "u1" },
  "d2's ordinary account": { domainId: "d2", accountId: "u2" },
  "an unknown account": { accountId: "unknown" },
};

function serverAnswer(principal: ModelPrincipal, action: ModelAction, target: Target): string | null {
  const full: ServerPrincipal =
    principal.kind === "support" ? { ...principal, name: "support", tokenVersion: 0 } : { ...principal, name: `${principal.id}@example.test`, tokenVersion: 0 };
  try {
    authorize(full, action, target, ["object", "x"]);
    return null;
  } catch (error) {
    if (error instanceof AppError) return error.code;
    throw error;
  }
}

test("the chaos model's rules agree with the policy table for every action it sends, every role and every target", () => {
  const disagreements: string[] = [];
  let compared = 0;
  const answers = new Set<string | null>();
  for (const action of Object.keys(MODEL_POLICY) as ModelAction[]) {
    for (const [who, principal] of Object.entries(principals)) {
      for (const [what, target] of Object.entries(targets)) {
        const model = refusalOf(principal, action, target);
        const server = serverAnswer(principal, action, target);
        compared++;
        answers.add(server);
        if (model !== server) disagreements.push(`${action} by ${who} on ${what}: model ${model ?? "allowed"}, policy ${server ?? "allowed"}`);
      }
    }
  }
  expect(disagreements).toEqual([]);
  expect(compared).toBe(Object.keys(MODEL_POLICY).length * 5 * 7);
  // The cases reach all three answers, so that the comparison can tell them apart.
  expect([...answers].sort()).toEqual(["FORBIDDEN", "NOT_FOUND", null].sort());
});
