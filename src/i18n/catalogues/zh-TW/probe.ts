// 繁體中文（臺灣）：probe 的訊息，代碼與佔位符同 ../en/probe.ts。
// 主機名稱、IP 位址、SMTP 回應與 DNS 錯誤是值，原樣放入。
import type { probe as en } from "../en/probe";

export const probe: Record<keyof typeof en, string> = {
  "probe.list": "{text}（原文為英文）",
  "probe.dns.nodata": "{name} 沒有這類紀錄",
  "probe.dns.nxdomain": "DNS 中沒有 {name}（NXDOMAIN）",
  "probe.dns.error": "DNS 沒有回應 {name} 的查詢：{error}",
  "probe.dns.no_address": "{host} 沒有 A 或 AAAA 紀錄",
  "probe.no_records": "沒有 MX，也沒有 A／AAAA 紀錄",
  "probe.attempt.greeted": "{who} 在 {ms} 毫秒內送出問候",
  "probe.attempt.greeting_rejected": "{who} 回應 {code}「{text}」",
  "probe.attempt.refused": "{who} 拒絕連線",
  "probe.attempt.timeout_connect": "{who} 沒有回應連線（逾時）",
  "probe.attempt.timeout_step":
    "{who} 接受了連線，但在{step, select, GREETING {等候問候} EHLO {EHLO} STARTTLS {STARTTLS} TLS_HANDSHAKE {TLS 交握} EHLO_AFTER_TLS {TLS 之後的 EHLO} QUIT {QUIT} other {{step}}}時逾時",
  "probe.attempt.unreachable": "無法連到 {who}（{error}）",
  "probe.attempt.protocol_error": "{who} 中斷了對話（{error}）",
  "probe.attempt.not_allowed": "{who} 是私有位址，不予探測",
  "probe.attempt.skipped": "{who} 未嘗試（探測的時間預算已用完）",
  "probe.verdict.dns_failure": "找不到 {domain} 的郵件伺服器：{error}。寄往 {domain} 的郵件會等到它的 DNS 有回應為止。",
  "probe.verdict.null_mx": "{domain} 發布了空 MX（RFC 7505）：完全不收郵件。寄給它的郵件會被退回；寄件者應改用其他地址。",
  "probe.verdict.no_address": "{domain} 沒有任何有位址的郵件伺服器（{reasons}）：在收件方修正 DNS 之前，寄給它的郵件都無法送達。",
  "probe.verdict.reachable": "{listing}：對方伺服器正常運作，接受連線。",
  "probe.verdict.partial": "{listing}：對方伺服器有在運作，重試將會成功。",
  "probe.verdict.rejecting_temporary": "{listing}：對方伺服器有在運作，但暫時拒絕連線（4xx）：佇列會重試，稍後應能送達。",
  "probe.verdict.rejecting_permanent": "{listing}：對方伺服器有在運作，但拒收我們的郵件（5xx）：請洽收件者的管理者。",
  "probe.verdict.private_only": "{listing}：私有位址不予探測（PROBE_ALLOW_PRIVATE）；{domain} 沒有公開的郵件伺服器。",
  "probe.verdict.unreachable": "{listing}：對方伺服器已停止運作，或從這裡無法連線；郵件在佇列中等候，須由收件者的管理者讓伺服器恢復運作。",
  "probe.rate_limited.user": "您最近已探測 {limit} 次；請於 {wait} 秒後再試。",
  "probe.rate_limited.target": "{target} 最近已被探測 {limit} 次；請於 {wait} 秒後再試。",
};
