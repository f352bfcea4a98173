// Domain names that can pass for another in a browser's address bar or a
// mail client: a label mixing scripts (Latin "tw" with a Cyrillic "а"), or a
// label written wholly in Cyrillic or Greek letters that all look like Latin
// ones ("а.tw", Cyrillic). Browsers show such names as punycode (UTS #39,
// "highly restrictive" profile, and whole-script confusables); support must
// confirm them knowingly. The allowed mixes are those of UTS #39's
// restriction levels: Latin with Han, Hiragana and Katakana (Japanese), with
// Han and Bopomofo (Chinese), with Han and Hangul (Korean).

const SCRIPTS = [
  "Latin",
  "Cyrillic",
  "Greek",
  "Armenian",
  "Hebrew",
  "Arabic",
  "Han",
  "Hiragana",
  "Katakana",
  "Hangul",
  "Bopomofo",
  "Thai",
  "Georgian",
  "Devanagari",
  "Cherokee",
  "Ethiopic",
] as const;
type Script = (typeof SCRIPTS)[number];
const SCRIPT_TESTS = SCRIPTS.map((script) => [script, new RegExp(`^\\p{Script=${script}}$`, "u")] as const);

const ALLOWED_MIXES: Script[][] = [
  ["Latin", "Han", "Hiragana", "Katakana"],
  ["Latin", "Han", "Bopomofo"],
  ["Latin", "Han", "Hangul"],
];

/** Cyrillic and Greek letters that look like Latin ones (UTS #39 confusables, lower case). */
const LATIN_LOOKALIKES = new Set([..."аеорсухіјѕԁһӏԛԝѵүѡ", ..."αεικνορτυχ"]);

function scriptOf(char: string): Script | "Other" | null {
  if (/^[\p{Script=Common}\p{Script=Inherited}]$/u.test(char)) return null;
  for (const [script, test] of SCRIPT_TESTS) if (test.test(char)) return script;
  return "Other";
}

export interface LookalikeFinding {
  label: string;
  reason: string;
}

/** Why a Unicode domain name could pass for another, label by label; empty when it could not. */
export function lookalikeFindings(unicodeName: string): LookalikeFinding[] {
  const findings: LookalikeFinding[] = [];
  for (const label of unicodeName.split(".")) {
    const scripts = new Set<string>();
    for (const char of label) {
      const script = scriptOf(char);
      if (script) scripts.add(script);
    }
    if (scripts.size > 1 && !ALLOWED_MIXES.some((mix) => [...scripts].every((script) => mix.includes(script as Script)))) {
      findings.push({ label, reason: `the label "${label}" mixes scripts (${[...scripts].join(", ")}), as names made to look like another do` });
      continue;
    }
    const letters = [...label].filter((char) => /\p{L}/u.test(char));
    if ((scripts.has("Cyrillic") || scripts.has("Greek")) && scripts.size === 1 && letters.length > 0 && letters.every((char) => LATIN_LOOKALIKES.has(char))) {
      findings.push({ label, reason: `the label "${label}" is written in ${[...scripts][0]} letters that all look like Latin ones` });
    }
  }
  return findings;
}
