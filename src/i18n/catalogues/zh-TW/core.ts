// 繁體中文（臺灣）：各功能共用的訊息，代碼與佔位符同 ../en/core.ts。
import type { core as en } from "../en/core";

export const core: Record<keyof typeof en, string> = {
  "error.unauthenticated": "您尚未登入，或登入已逾時：請重新登入。",
  "error.not_found.one": "找不到{what} {reference}，或您沒有權限查看。",
  "error.not_found.many": "找不到{what} {reference}，或您沒有權限查看。",
  "error.service_unavailable": "資料庫目前沒有回應，請稍後再試。",
  "error.internal": "系統內部錯誤，已記錄下來；聯絡客服時請提供 requestId。",

  "object.domain": "網域",
  "object.account": "帳號",
  "object.alias": "別名",
  "object.alias_domain": "別名網域",

  "problem.UNAUTHENTICATED": "尚未登入",
  "problem.FORBIDDEN": "沒有權限",
  "problem.NOT_FOUND": "找不到",
  "problem.BAD_USER_INPUT": "輸入有誤",
  "problem.CONFLICT": "資料衝突",
  "problem.QUOTA_EXCEEDED": "超過配額",
  "problem.RATE_LIMITED": "要求次數過多",
  "problem.SERVICE_UNAVAILABLE": "服務暫時無法使用",
  "problem.INTERNAL_SERVER_ERROR": "系統內部錯誤",

  "auth.failure.missing": "您尚未登入：請先呼叫 login，再以 'Authorization: Bearer <token>' 送出取得的權杖。",
  "auth.failure.expired": "登入已逾時：請重新登入。",
  "auth.failure.invalid": "送出的權杖無效：請重新登入。",
  "auth.failure.revoked": "此權杖已因密碼或管理者變更而撤銷：請重新登入。",
  "auth.failure.suspended": "此帳號或其網域已停用：請洽客服。",
  "auth.failure.disabled": "此客服帳號已停用：請洽客服管理者重新啟用。",
  "auth.failure.session_ended": "此登入工作階段已結束（endSession 或 endAllSessions）：請重新登入。",
  "auth.failure.api_token_invalid": "無法辨識送出的 API 權杖：請確認已完整複製（mat_ 加上 56 個字元）。",
  "auth.failure.api_token_expired": "此 API 權杖已過期：請建立新的權杖（createApiToken）。",
  "auth.failure.api_token_revoked": "此 API 權杖已撤銷：請建立新的權杖（createApiToken）。",
  "auth.failure.api_token_creator_gone": "此 API 權杖已失效：建立它的人已不是此網域的網域管理者（或已不存在）。請向網域管理者或客服申請新的權杖。",

  "input.too_long": "{field} 太長（最多 {max} 個字元）。",
  "input.control_characters": "{field} 含有控制字元。",
  "input.lone_surrogate": "{field} 不是有效的 Unicode 文字（含有落單的代理字元）。",
  "input.domain_name": "「{input}」不是有效的網域名稱：請用英文字母、數字與連字號，以點分隔各段，例如 example.com。",
  "input.local_part": "「{input}」不是有效的信箱名稱：請用 1 到 64 個英文字母、數字及 . _ - +（開頭、結尾不可為點，也不可連續兩個點）。",
  "input.address": "「{input}」不是電子郵件地址，正確格式如 user@example.com。",
  "input.quota": "{field} 必須是 0 以上的整數，單位 MiB（收到的是 {value}）。",
  "input.max_accounts": "{field} 至少要是 1：網域管理者本身也是一個帳號（收到的是 {value}）。",
  "input.password_short": "{field} 至少要 10 個字元。",
  "input.password_long": "{field} 太長：最多 72 個位元組（英數字 72 個，含重音字母或中日韓文字則較少）。",
  "input.password_nul": "{field} 含有 NUL 字元。",
  "input.cursor": "{field} 不是本 API 傳回的游標。",
  "input.id": "{field} 不是有效的 id。",
  "input.page_size": "{field} 必須介於 1 到 100 之間（收到的是 {value}）。",

  "language.account_only": "只有已登入的客服人員或帳號才能儲存語言偏好。",
};
