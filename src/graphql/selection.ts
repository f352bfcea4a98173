// What a list query asks of its nodes, so that a page can read the relations
// it shows in its own statement instead of one batch per relation.
import { Kind, type FieldNode, type GraphQLResolveInfo, type SelectionSetNode } from "graphql";

/**
 * The names of the fields selected on a connection's nodes (`nodes { ... }`
 * and `edges { node { ... } }`), through fragments. Directives (@skip,
 * @include) are ignored: a field they drop is read for nothing, never missed.
 */
export function selectedNodeFields(info: GraphQLResolveInfo): Set<string> {
  const names = new Set<string>();
  const fieldsOf = (selectionSet: SelectionSetNode | undefined, visit: (field: FieldNode) => void, seen = new Set<string>()) => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) visit(selection);
      else if (selection.kind === Kind.INLINE_FRAGMENT) fieldsOf(selection.selectionSet, visit, seen);
      else if (!seen.has(selection.name.value)) {
        seen.add(selection.name.value);
        fieldsOf(info.fragments[selection.name.value]?.selectionSet, visit, seen);
      }
    }
  };
  const collectNode = (node: FieldNode) => fieldsOf(node.selectionSet, (field) => names.add(field.name.value));
  for (const connection of info.fieldNodes) {
    fieldsOf(connection.selectionSet, (field) => {
      if (field.name.value === "nodes") collectNode(field);
      else if (field.name.value === "edges") fieldsOf(field.selectionSet, (edgeField) => edgeField.name.value === "node" && collectNode(edgeField));
    });
  }
  return names;
}
