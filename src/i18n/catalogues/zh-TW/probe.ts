// 繁體中文（臺灣）：probe 的訊息，代碼與佔位符同 ../en/probe.ts。
import type { probe as en } from "../en/probe";

export const probe: Record<keyof typeof en, string> = {};
