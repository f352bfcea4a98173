// 繁體中文（臺灣）：diagnosis 的訊息，代碼與佔位符同 ../en/diagnosis.ts。
import type { diagnosis as en } from "../en/diagnosis";

export const diagnosis: Record<keyof typeof en, string> = {};
