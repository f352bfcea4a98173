// 繁體中文（臺灣）：ide 的訊息，代碼與佔位符同 ../en/ide.ts。
import type { ide as en } from "../en/ide";

export const ide: Record<keyof typeof en, string> = {};
