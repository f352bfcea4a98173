// 繁體中文（臺灣）：imports 的訊息，代碼與佔位符同 ../en/imports.ts。
import type { imports as en } from "../en/imports";

export const imports: Record<keyof typeof en, string> = {};
