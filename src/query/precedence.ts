import type { Predicate } from "./ast.js";
import { isNode, type RawNode } from "./sql-parser.js";

/**
 * Rebuilds an AND/OR chain with SQL precedence (NOT > AND > OR).
 *
 * Why: node-sql-parser 5.4 (PostgreSQL and most dialects) folds a WHERE
 * clause's AND/OR chain left to right with equal precedence, so
 * `a OR b AND c` arrives as `(a OR b) AND c`. Parenthesised groups are marked
 * (`parentheses: true`), so the unparenthesised AND/OR nodes under `root`, read
 * in order, are exactly the flat chain that was written; this regroups that
 * chain, whatever tree the parser built for it. Correctly nested input comes
 * out unchanged.
 */
export function fixPrecedence(root: RawNode, operand: (node: unknown) => Predicate): Predicate {
  const operands: unknown[] = [];
  const ops: ("AND" | "OR")[] = [];
  const walk = (n: unknown, isRoot: boolean): void => {
    if (isNode(n) && n.type === "binary_expr" && (n.operator === "AND" || n.operator === "OR") && (isRoot || n.parentheses !== true)) {
      walk(n.left, false);
      ops.push(n.operator);
      walk(n.right, false);
    } else {
      operands.push(n);
    }
  };
  walk(root, true);
  const groups: Predicate[][] = [[operand(operands[0])]];
  ops.forEach((op, i) => {
    const p = operand(operands[i + 1]);
    if (op === "AND") groups[groups.length - 1]!.push(p);
    else groups.push([p]);
  });
  const terms = groups.map((g): Predicate => (g.length === 1 ? g[0]! : { kind: "and", items: g }));
  return terms.length === 1 ? terms[0]! : { kind: "or", items: terms };
}
