// 繁體中文（臺灣）：cli 的訊息，代碼與佔位符同 ../en/cli.ts。
import type { cli as en } from "../en/cli";

export const cli: Record<keyof typeof en, string> = {};
