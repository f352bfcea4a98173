#!/usr/bin/env bash
# Captures what Debian 12's Postfix (3.7) really writes to its maillog_file,
# for the parser's fixtures (test/maillog/fixtures/postfix-*.log). Runs a
# throw-away Postfix instance (its own configuration, queue and data
# directories, on 127.0.0.47 and high ports; never /etc/postfix or the host's
# services), sends it messages with swaks, and copies its log:
#   sudo bash scripts/postfix-capture/capture.sh test/maillog/fixtures/postfix-maillog_file.log
#   sudo LONG_QUEUE_IDS=yes bash scripts/postfix-capture/capture.sh test/maillog/fixtures/postfix-long-queue-ids.log
# Needs root (Postfix's master), postfix, swaks and node (the LMTP and remote
# SMTP peers of sinks.mjs, from the project's smtp-server).
set -euo pipefail
out=${1:?usage: capture.sh OUTPUT.log}
here=$(cd "$(dirname "$0")" && pwd)
ip=127.0.0.47
smtpd_port=10025
lmtp_port=24241
remote_port=25251
dir=$(mktemp -d /tmp/postfix-capture-XXXXXX)
mkdir -p "$dir/etc" "$dir/queue" "$dir/data" "$dir/mail"
chmod 755 "$dir"
chown nobody:nogroup "$dir/mail"
chown postfix:postfix "$dir/data"

cat >"$dir/etc/main.cf" <<CF
compatibility_level = 3.6
queue_directory = $dir/queue
data_directory = $dir/data
maillog_file = $dir/maillog
maillog_file_prefixes = /var, /dev/stdout, /tmp
myhostname = mx.capture.test
mydomain = capture.test
myorigin = \$myhostname
mydestination =
# Postfix finds no interface for 127.0.0.47 (lo holds 127.0.0.1/8): the smtpd service below binds to it itself.
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
alias_maps =
alias_database =
biff = no
smtputf8_enable = no
smtp_dns_support_level = disabled
smtp_connect_timeout = 2s
virtual_mailbox_domains = hosted.test lmtp.test
virtual_mailbox_maps = hash:$dir/etc/vmailbox
virtual_mailbox_base = $dir/mail
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
transport_maps = hash:$dir/etc/transport
virtual_alias_maps = hash:$dir/etc/valias
enable_long_queue_ids = ${LONG_QUEUE_IDS:-no}
smtpd_recipient_restrictions = check_recipient_access hash:$dir/etc/recipient_access, permit_mynetworks, reject_unauth_destination
message_size_limit = 2097152
queue_run_delay = 5s
minimal_backoff_time = 5s
maximal_backoff_time = 10s
maximal_queue_lifetime = 25s
bounce_queue_lifetime = 25s
CF
cat >"$dir/etc/master.cf" <<CF
$ip:$smtpd_port inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
relay     unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
local     unix  -       n       n       -       -       local
virtual   unix  -       n       n       -       -       virtual
lmtp      unix  -       -       n       -       -       lmtp
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
CF
cat >"$dir/etc/vmailbox" <<CF
alice@hosted.test hosted.test/alice/
sender@hosted.test hosted.test/sender/
full2@hosted.test hosted.test/full2/
bob@lmtp.test lmtp.test/bob/
full@lmtp.test lmtp.test/full/
CF
cat >"$dir/etc/transport" <<CF
lmtp.test lmtp:inet:$ip:$lmtp_port
remote.test smtp:[127.0.0.48]:9
bouncing.test smtp:[$ip]:$remote_port
CF
cat >"$dir/etc/valias" <<CF
info@hosted.test alice@hosted.test
CF
cat >"$dir/etc/recipient_access" <<CF
full2@hosted.test 552 5.2.2 Mailbox is full
CF
postmap -c "$dir/etc" "$dir/etc/vmailbox" "$dir/etc/transport" "$dir/etc/valias" "$dir/etc/recipient_access"

node "$here/sinks.mjs" "$ip" "$lmtp_port" "$remote_port" &
sinks=$!
pf="postfix -c $dir/etc"
cleanup() {
  $pf stop >/dev/null 2>&1 || true
  kill "$sinks" 2>/dev/null || true
  wait "$sinks" 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
$pf check
$pf start
sleep 2
send() { swaks --silent 2 --server $ip --port $smtpd_port --helo client.capture.test "$@" || true; }
# Delivered by virtual(8) and over LMTP; two recipients in one message.
send --from sender@hosted.test --to alice@hosted.test --header "Subject: delivered"
send --from someone@remote.test --to alice@hosted.test,bob@lmtp.test --header "Subject: two recipients"
# To an alias (orig_to=).
send --from someone@remote.test --to info@hosted.test --header "Subject: alias"
# Refused at RCPT: unknown recipient (550 5.1.1), a full mailbox (552 5.2.2), relaying denied from outside mynetworks is not reachable here.
send --from someone@remote.test --to ghost@hosted.test
send --from someone@remote.test --to full2@hosted.test
# Too big (552 5.3.4 at MAIL FROM with SIZE, or at end of DATA).
head -c 3000000 /dev/zero | tr '\0' 'x' | fold -w 76 >"$dir/big.txt"
send --from sender@hosted.test --to alice@hosted.test --attach "@$dir/big.txt"
# Accepted, then refused by the LMTP server (quota): bounced, with a non-delivery notice to the sender.
send --from sender@hosted.test --to full@lmtp.test --header "Subject: over quota"
# Outbound: a remote that refuses the recipient (bounced), and one that cannot be reached (deferred, then expired).
send --from sender@hosted.test --to nobody@bouncing.test --header "Subject: bounced"
send --from sender@hosted.test --to friend@bouncing.test --header "Subject: sent outbound"
send --from sender@hosted.test --to friend@remote.test --header "Subject: deferred"
# Let the deferred message be retried and expire (maximal_queue_lifetime 25s).
sleep 45
$pf flush || true
sleep 5
mkdir -p "$(dirname "$out")"
cp "$dir/maillog" "$out"
echo "captured $(wc -l <"$out") lines into $out"
