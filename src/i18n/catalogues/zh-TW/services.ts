// 繁體中文（臺灣）：services 的訊息，代碼與佔位符同 ../en/services.ts。
import type { services as en } from "../en/services";

export const services: Record<keyof typeof en, string> = {};
