// What a list query asks of its nodes, so that a page can read the relations
// it shows in its own statement instead of one batch per relation.
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";

type Fragments = GraphQLResolveInfo["fragments"];

/** Calls `visit` for each field of a selection set, through fragments (each named fragment once). */
function eachField(selectionSet: SelectionSetNode | undefined, fragments: Fragments, visit: (field: FieldNode) => void, seen = new Set<string>()): void {
  for (const selection of selectionSet?.selections ?? []) {
    if (selection.kind === Kind.FIELD) visit(selection);
    else if (selection.kind === Kind.INLINE_FRAGMENT) eachField(selection.selectionSet, fragments, visit, seen);
    else if (!seen.has(selection.name.value)) {
      seen.add(selection.name.value);
      eachField(fragments[selection.name.value]?.selectionSet, fragments, visit, seen);
    }
  }
}

/** The fields selected on a connection's nodes, by name, each with the field nodes that select it (for their own sub-selections). */
export type NodeSelection = Map<string, FieldNode[]>;

/**
 * The fields selected on a connection's nodes (`nodes { ... }` and
 * `edges { node { ... } }`), through fragments. Directives (@skip,
 * @include) are ignored: a field they drop is read for nothing, never missed.
 */
export function selectedNodeFields(info: GraphQLResolveInfo): NodeSelection {
  const selected: NodeSelection = new Map();
  const collectNode = (node: FieldNode) =>
    eachField(node.selectionSet, info.fragments, (field) => {
      const nodes = selected.get(field.name.value);
      if (nodes) nodes.push(field);
      else selected.set(field.name.value, [field]);
    });
  for (const connection of info.fieldNodes) {
    eachField(connection.selectionSet, info.fragments, (field) => {
      if (field.name.value === "nodes") collectNode(field);
      else if (field.name.value === "edges") eachField(field.selectionSet, info.fragments, (edgeField) => edgeField.name.value === "node" && collectNode(edgeField));
    });
  }
  return selected;
}

/** The names of the fields selected under the given field nodes (one level), through fragments. */
export function subFieldNames(fieldNodes: readonly FieldNode[], info: Pick<GraphQLResolveInfo, "fragments">): Set<string> {
  const names = new Set<string>();
  for (const node of fieldNodes) eachField(node.selectionSet, info.fragments, (field) => names.add(field.name.value));
  return names;
}
