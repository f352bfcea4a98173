// 繁體中文（臺灣）：cli 的訊息，代碼與佔位符同 ../en/cli.ts。
// 要輸入的指令與路徑以值帶入，在各語言都照原樣顯示。
import type { cli as en } from "../en/cli";

export const cli: Record<keyof typeof en, string> = {
  "cli.unknown_language": "MAILADMIN_LANGUAGE 只能是 en 或 zh-TW，不能是 {value}：改用系統語系或 DEFAULT_LANGUAGE。",
  "cli.usage": "用法：{command}",
  "cli.wrote": "已寫入 {path}",

  "cli.import.usage": "用法：{command}\n  MAILADMIN_URL    伺服器位址（預設 {url}）\n  MAILADMIN_TOKEN  客服人員或該網域管理者的權杖（用 login 取得，或具 write 範圍的 API 權杖）",
  "cli.import.one_file": "請只指定一個檔案",
  "cli.import.bad_mode": "--mode 只能是 per-row 或 all-or-nothing，不能是 {value}",
  "cli.import.bad_format": "--format 只能是 csv 或 jsonl，不能是 {value}",
  "cli.import.no_token": "請把 MAILADMIN_TOKEN 設為登入權杖（mutation login）或 API 權杖",
  "cli.import.http_status": "伺服器回應 HTTP {status}",
  "cli.import.uploaded_part": "已上傳第 {part} 部分，共 {parts} 部分",
  "cli.import.uploading": "上傳中",
  "cli.import.phase.VALIDATING": "檢查中",
  "cli.import.phase.HASHING": "密碼雜湊中",
  "cli.import.phase.WRITING": "寫入中",
  "cli.import.phase.DONE": "已完成",
  "cli.import.phase.FAILED": "已失敗",
  "cli.import.progress": "{phase} {done}/{total}，共 {rows} 列",
  "cli.import.progress_percent": "{phase} {done}/{total}（{percent}%），共 {rows} 列",
  "cli.import.row_error": "第 {row} 列（第 {line} 行）{code}：{message}",
  "cli.import.row_error_field": "第 {row} 列（第 {line} 行）{field} {code}：{message}",
  "cli.import.failed": "匯入失敗：{reason}",
  "cli.import.dry_run_summary": "試算（不寫入）：共 {rows} 列，{valid} 列會建立，{failed} 列被拒絕",
  "cli.import.summary": "共 {rows} 列：已建立 {created} 個帳號，{failed} 列被拒絕",
  "cli.import.usage_error": "匯入：{error}",

  "cli.logs_collect.failed": "logs:collect 失敗：{error}",

  "cli.mailserver_config.no_out": "必須指定 --out DIR：要寫入設定檔的資料夾",
  "cli.mailserver_config.no_database": "郵件伺服器從 PostgreSQL 讀取 mailadmin 的資料：請設定 DATABASE_URL（內建資料庫只供 API 使用）",
  "cli.mailserver_config.wrote_secret": "已寫入（機密，權限 0600）{path}",
  "cli.mailserver_config.no_password": "MAILSERVER_DB_PASSWORD 未設定：檔案裡沒有 {user} 的密碼（使用 peer 或 trust 驗證時沒問題；否則請設定後再執行一次）。",
  "cli.mailserver_config.where": "各檔案該放在哪裡：見 {doc} 的「A Debian 12 mail host」一節。",
  "cli.mailserver_config.error": "mailserver:config 出錯：{error}",

  "cli.mailserver_dkim.no_out": "必須指定 --out DIR：要寫入簽章程式檔案的資料夾",
  "cli.mailserver_dkim.no_database": "請設定 DATABASE_URL：金鑰從 mailadmin 的 PostgreSQL 讀取",
  "cli.mailserver_dkim.backfilled": "已為 {count} 個沒有 DKIM 金鑰的網域產生金鑰：{domains}",
  "cli.mailserver_dkim.keys_written": "已在 {dir} 下寫入 {count} 個私鑰檔（權限 0600）：{domains} 個網域會簽章",
  "cli.mailserver_dkim.next":
    "請把 {root} 複製到 {signerDir}（擁有者 opendkim，金鑰權限 0600），讓 /etc/opendkim.conf 的設定指向它（參考 opendkim.conf），再重新載入 OpenDKIM：見 {doc}。",
  "cli.mailserver_dkim.error": "mailserver:dkim 出錯：{error}",

  "cli.mailstack.running": "執行中",
  "cli.mailstack.stopped": "已停止",
  "cli.mailstack.postfix": "Postfix  {state}   SMTP {smtp}   投遞埠（submission）{submission}",
  "cli.mailstack.dovecot": "Dovecot  {state}   IMAP {imap}   POP3 {pop3}   LMTP {lmtp}   配額狀態（quota-status）{quotaStatus}",
  "cli.mailstack.folder": "資料夾   {dir}   郵件 {mail}",
  "cli.mailstack.opendkim": "OpenDKIM 為寄出的郵件簽章：milter {milter}，檔案在 {dir}（金鑰輪替後請執行 {command}）",
  "cli.mailstack.log_source": "Postfix 的日誌，供 mailadmin 收集程式使用：LOG_SOURCES={sources}",
  "cli.mailstack.none": "{dir} 沒有郵件服務組：用 {command} 啟動一組",
  "cli.mailstack.down": "{dir} 的郵件服務組已停止（郵件與日誌都保留）",
  "cli.mailstack.no_database": "請設定 DATABASE_URL",
  "cli.mailstack.dkim_restarted": "OpenDKIM 已用 {count} 把簽章金鑰重新啟動",
  "cli.mailstack.installing": "正在安裝 Debian 套件：{packages}（不會啟動主機本身的 Postfix 與 Dovecot 服務）",
  "cli.mailstack.stop_hint": "停止請執行：{command}",
  "cli.mailstack.error": "mailstack 出錯：{error}",
};
