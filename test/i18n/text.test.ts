// Texts kept as data: a Message stored as JSON comes back as the same Message
// and is written in the reader's language; English stored before catalogues
// comes back unchanged; an unknown id is dropped, not a crash.
import { message } from "../../src/i18n/messages";
import { textFromJSON, writeText, writtenFor } from "../../src/i18n/text";

describe("texts kept as data", () => {
  it("round-trips a Message, with a Message among its values, through JSON", () => {
    const stored: unknown = JSON.parse(JSON.stringify({ fix: message("error.not_found.one", { what: message("object.domain"), reference: "example.com" }) }));
    const fix = textFromJSON((stored as { fix: unknown }).fix);
    expect(writeText(fix, "en")).toBe("No domain example.com exists, or you may not see it.");
    expect(writeText(fix, "zh-TW")).toBe("找不到網域 example.com，或您沒有權限查看。");
  });

  it("keeps plain strings, and reads an unknown id or a non-text as null", () => {
    expect(textFromJSON("Publish an MX record.")).toBe("Publish an MX record.");
    expect(textFromJSON({ messageId: "no.such.id", values: {} })).toBeNull();
    expect(textFromJSON(42)).toBeNull();
    expect(writeText(null, "zh-TW")).toBeNull();
  });

  it("writes in the language a request asks for, only when there is a Message", async () => {
    let asked = 0;
    const languageOf = () => {
      asked += 1;
      return Promise.resolve("zh-TW" as const);
    };
    await expect(writtenFor(languageOf, "as is")).resolves.toBe("as is");
    expect(asked).toBe(0);
    await expect(writtenFor(languageOf, message("object.alias"))).resolves.toBe("別名");
    expect(asked).toBe(1);
  });
});
