// 繁體中文（臺灣）：與 ../en 相同的訊息代碼與佔位符，一個功能一個檔案。
// 用語依臺灣客服習慣：郵件、網域、信箱、配額、網域管理者、伺服器；單位寫 MiB、秒。
import type { MessageId } from "../en";
import { core } from "./core";
import { dns } from "./dns";
import { diagnosis } from "./diagnosis";
import { probe } from "./probe";
import { imports } from "./imports";
import { services } from "./services";
import { ide } from "./ide";
import { cli } from "./cli";
import { rest } from "./rest";

export const zhTW: Record<MessageId, string> = { ...core, ...dns, ...diagnosis, ...probe, ...imports, ...services, ...ide, ...cli, ...rest };
