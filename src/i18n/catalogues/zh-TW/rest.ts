// 繁體中文（臺灣）：REST API 本身的訊息，代碼與佔位符同 ../en/rest.ts。
import type { rest as en } from "../en/rest";

export const rest: Record<keyof typeof en, string> = {
  "rest.validation.required": "{where, select, body {} querystring {查詢參數 } other {路徑參數 }}{field} 為必填。",
  "rest.validation.not_a_field": "{where, select, body {} querystring {查詢參數 } other {路徑參數 }}{field} 不是這個請求的欄位：請對照 OpenAPI 文件（{openapi}）檢查拼寫。",
  "rest.validation.one_of": "{where, select, body {} querystring {查詢參數 } other {路徑參數 }}{field} 必須是下列之一：{values}。",
  "rest.validation.invalid": "{where, select, body {} querystring {查詢參數 } other {路徑參數 }}{field} 不符合要求（{reason}）。",
  "rest.validation.the_value": "這個值",
  "rest.validation.the_body": "請求內容",
  "rest.validation.a_parameter": "某個參數",
  "rest.validation.not_valid": "無效",

  "rest.no_route": "這個 API 沒有 {method} {path} 這個路徑；所有路徑列在 {openapi}。",
  "rest.title.405": "不允許此方法",
  "rest.title.406": "無法提供可接受的格式",
  "rest.title.413": "請求內容過大",
  "rest.title.415": "不支援的媒體類型",
  "rest.http.FST_ERR_CTP_BODY_TOO_LARGE": "請求內容過大",
  "rest.http.FST_ERR_CTP_INVALID_CONTENT_LENGTH": "請求內容的大小與 Content-Length 不符",
  "rest.http.FST_ERR_CTP_EMPTY_JSON_BODY": "Content-Type 是 application/json 時，請求內容不能是空的",
  "rest.http.FST_ERR_CTP_INVALID_JSON_BODY": "Content-Type 是 application/json，但請求內容不是有效的 JSON",

  "rest.totp_required": "您必須使用兩步驟登入，但尚未設定：請透過 GraphQL API 設定（startTotpEnrollment），然後重新登入。",
  "rest.no_account_create_first": "帳號 {address} 不存在：請先建立（{route}）。",
  "rest.no_account_give_password": "帳號 {address} 還不存在：請提供密碼以建立它。",
};
