// 繁體中文（臺灣）：dns 的訊息，代碼與佔位符同 ../en/dns.ts。
import type { dns as en } from "../en/dns";

export const dns: Record<keyof typeof en, string> = {};
