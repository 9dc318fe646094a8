/**
 * Lists the functions of lib/ and sim/ (or the folders and files given)
 * longer than a limit, longest first: the check behind the convention
 * "functions <= ~80 lines reading as named steps" (docs/layout.md).
 * Counts every function, method, constructor, accessor and arrow with a
 * body, from its first line to its last, nested ones on their own too.
 *
 * ```sh
 * deno task long-functions                      # lib/ and sim/, over 80 lines
 * deno task long-functions --top 15             # the 15 longest
 * deno task long-functions --limit 60 lib/net   # another limit, one folder
 * ```
 *
 * @module
 */
import ts from "typescript";

const args = [...Deno.args];
let limit = 80, top = 0;
const dirs: string[] = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--limit") limit = Number(args[++i]);
  else if (args[i] === "--top") top = Number(args[++i]);
  else dirs.push(args[i]);
}
if (dirs.length === 0) dirs.push("lib", "sim");

// Generated code is not ours to shape: *.generated.ts, and protons' output
// (a .ts beside a .proto of the same name, as in lib/net/protocol/pb/).
async function* files(dir: string): AsyncGenerator<string> {
  if ((await Deno.stat(dir)).isFile) {
    yield dir;
    return;
  }
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* files(p);
    else if (
      /\.tsx?$/.test(e.name) && !/\.generated\.ts$/.test(e.name) &&
      !e.name.endsWith(".d.ts") &&
      !(await exists(p.replace(/\.ts$/, ".proto")))
    ) yield p;
  }
}

type Row = { file: string; name: string; lines: number; start: number };
const rows: Row[] = [];
function nameOf(node: ts.Node, sf: ts.SourceFile): string {
  const n = (node as { name?: ts.Node }).name;
  if (n) {
    let owner = "";
    if (
      ts.isMethodDeclaration(node) || ts.isConstructorDeclaration(node) ||
      ts.isGetAccessor(node)
    ) {
      const c = node.parent as ts.ClassLikeDeclaration;
      if (c && (c as { name?: ts.Node }).name) {
        owner = c.name!.getText(sf) + ".";
      }
    }
    return owner + n.getText(sf);
  }
  if (ts.isConstructorDeclaration(node)) {
    const c = node.parent as ts.ClassLikeDeclaration;
    return (c.name?.getText(sf) ?? "<class>") + ".constructor";
  }
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p)) return p.name.getText(sf);
  if (p && ts.isPropertyAssignment(p)) return p.name.getText(sf);
  if (p && ts.isCallExpression(p)) {
    return `<callback of ${p.expression.getText(sf).slice(0, 40)}>`;
  }
  return "<anonymous>";
}
for (const dir of dirs) {
  for await (const file of files(dir)) {
    const text = await Deno.readTextFile(file);
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node) => {
      if (
        ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) ||
        ts.isArrowFunction(node) || ts.isFunctionExpression(node) ||
        ts.isConstructorDeclaration(node) || ts.isGetAccessor(node) ||
        ts.isSetAccessor(node)
      ) {
        const body = (node as ts.FunctionLikeDeclaration).body;
        if (body) {
          const start =
            sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1;
          const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line + 1;
          rows.push({
            file,
            name: nameOf(node, sf),
            lines: end - start + 1,
            start,
          });
        }
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
}
rows.sort((a, b) => b.lines - a.lines);
const shown = top > 0
  ? rows.slice(0, top)
  : rows.filter((r) => r.lines > limit);
for (const r of shown) {
  console.log(
    `${String(r.lines).padStart(4)}  ${r.file}:${r.start}  ${r.name}`,
  );
}

async function exists(p: string): Promise<boolean> {
  try {
    await Deno.stat(p);
    return true;
  } catch {
    return false;
  }
}
