// 繁體中文（臺灣）：imports 的訊息，代碼與佔位符同 ../en/imports.ts。
// 列 = 資料列（row），行 = 檔案的行（line），欄 = 欄位（column），依臺灣試算表用語。
import type { imports as en } from "../en/imports";

export const imports: Record<keyof typeof en, string> = {
  "imports.file.csv_unreadable": "無法讀取這個 CSV：{reason}",
  "imports.file.csv_unreadable_at_line": "無法讀取這個 CSV，問題在第 {line} 行：{reason}",
  "imports.file.empty": "檔案是空的：第一行必須列出欄位名稱（{columns}）。",
  "imports.file.too_many_rows": "檔案超過 {max} 列（IMPORT_MAX_ROWS）：請分成幾個檔案。",
  "imports.file.too_large": "檔案大於 {max} MiB（IMPORT_MAX_MB）：請分成幾個檔案。",
  "imports.file.unknown_column": "標題列（第 1 行）有不認得的欄位「{name}」：可用的欄位是 {columns}。",
  "imports.file.column_twice": "欄位 {column} 在標題列（第 1 行）出現了兩次。",
  "imports.file.no_address_column": "標題列（第 1 行）沒有 address 欄位：可用的欄位是 {columns}。",
  "imports.file.no_password_column": "標題列（第 1 行）需要 password 或 passwordHash 欄位（匯入帳號），或 destinations 欄位（匯入別名）。",
  "imports.file.no_rows": "檔案裡沒有任何資料列。",

  "imports.row.cell_count": "這一列有 {cells} 個值，但標題列有 {columns} 個欄位。",
  "imports.row.line_not_json": "第 {line} 行不是 JSON：每一行必須是一個物件，例如 {example}。",
  "imports.row.line_not_object": "第 {line} 行不是 JSON 物件。",
  "imports.row.unknown_field": "不認得的欄位「{name}」：可用的欄位是 {columns}。",

  "imports.row.must_be_text": "{field} 必須是文字。",
  "imports.row.address_missing": "缺少 address（郵件地址）。",
  "imports.row.destinations_format": "destinations 必須是郵件地址：JSON 請用清單，CSV 請用逗號、分號或空格分隔。",
  "imports.row.destinations_empty": "請至少填一個轉寄目的地址。",
  "imports.row.alias_extra_column": "有 destinations 的列是別名：不能填 {column}（請留空；若要建立信箱，則把 destinations 留空）。",
  "imports.row.password_and_hash": "password 和 passwordHash 只能填一個，不能兩個都填。",
  "imports.row.password_hash": "passwordHash 必須是 bcrypt 雜湊值，例如 $2b$12$ 後面接 53 個字元（$2a$、$2b$ 或 $2y$）。",
  "imports.row.password_missing": "缺少 password（或 passwordHash）。",
  "imports.row.quota": "quotaMb 必須是 0 到 {max} 之間的整數 MiB（收到的是 {value}）。",
  "imports.row.status": "status 必須是 ACTIVE 或 SUSPENDED（收到的是 {value}）。",
  "imports.row.address_twice": "{address} 在檔案中出現了兩次：第 {first} 列已經有這個地址。",
  "imports.row.account_exists": "帳號 {address} 已經存在。",
  "imports.row.alias_exists": "別名 {address} 已經存在。",
  "imports.row.max_accounts": "網域 {domain} 的帳號數會超過上限 {max} 個（已算入上面的列）：請提高 maxAccounts，或少匯入一些。",

  "imports.failure.nothing_created": "沒有建立任何帳號",
  "imports.failure.some_created": "出錯之前各列的 {count} 個帳號已經建立（稽核紀錄 auditLog 列有它們）",
  "imports.failure.stopped": "匯入途中伺服器停止了；{created}。請再執行一次：已經建立的列會被視為已存在而拒絕。",
  "imports.failure.database": "{error} 匯入已停止；{created}。",
  "imports.failure.internal": "內部錯誤；{created}。錯誤已連同這次匯入的代碼 {id} 記錄下來。",

  "imports.read_only_support": "您的客服帳號是唯讀的：不能匯入帳號。請找具完整權限的客服管理者。",
  "imports.not_importer": "只有客服人員和網域管理者可以匯入帳號。",
  "imports.too_many_open": "您已經有 {count} 個匯入正在上傳或執行：請等其中一個完成（accountImport）再開始新的匯入。",
  "imports.not_found": "找不到代碼為 {id} 的匯入，或您無權查看。",
  "imports.content_complete": "匯入 {id} 的內容已經全部收到。",
  "imports.failure.server_gone": "執行這次匯入的伺服器在完成前停止了；{created}。請再執行一次：已經建立的列會被視為已存在而拒絕。",
  "imports.already_uploaded": "匯入 {id} 的內容已經全部收到（目前狀態為 {phase}）。",

  "imports.rest.not_utf8": "檔案不是 UTF-8 文字：請存成 UTF-8（Excel 選「CSV UTF-8」），或在 Content-Type 註明編碼，例如 text/csv; charset=big5。",
  "imports.rest.unknown_charset": "Content-Type 裡的字元編碼 {charset} 本伺服器無法讀取：請用 UTF-8 傳送。",
  "imports.rest.format_mismatch": "format={format} 與 Content-Type {mediaType} 不一致：JSON lines 請用 application/x-ndjson 傳送，CSV 請用 text/csv。",
  "imports.rest.media_type": "請把檔案本身當作請求內容傳送，Content-Type 用 {types}（收到的是 {got}）。",
  "imports.rest.media_type_none": "沒有",
  "imports.rest.no_body": "請把檔案當作請求內容傳送，Content-Type 用 {types}。",
};
