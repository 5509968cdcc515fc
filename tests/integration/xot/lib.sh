# SPDX-License-Identifier: MIT
# tests/integration/xot/lib.sh -- certificates for the XFR-over-TLS tests, made with the
# openssl command line (ECDSA P-256, SHA-256), and config helpers:
#
#   xot_ca DIR NAME                  a CA: DIR/NAME.pem, DIR/NAME.key (and its `openssl ca`
#                                    database under DIR/NAME.db)
#   xot_cert DIR CA NAME DNSNAME [START END]
#                                    a certificate for DNSNAME (CN and subjectAltName)
#                                    signed by CA: DIR/NAME.pem, DIR/NAME.key; START/END
#                                    as YYYYMMDDHHMMSSZ (default: valid 30 days from now),
#                                    e.g. an expired one
#   xot_pin FILE                     the base64 SHA-256 of FILE's SubjectPublicKeyInfo
#                                    (the pin-sha256 form, RFC 7858)

xot_ca()
{
	local d=$1 n=$2
	mkdir -p "$d/$n.db/new"
	: >"$d/$n.db/index.txt"
	echo 1000 >"$d/$n.db/serial"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 -days 30 \
		-subj "/CN=$n" -keyout "$d/$n.key" -out "$d/$n.pem" 2>/dev/null ||
		bed_die "openssl: CA $n"
	cat >"$d/$n.db/ca.cnf" <<CNF
[ca]
default_ca = zx
[zx]
dir = $d/$n.db
database = $d/$n.db/index.txt
new_certs_dir = $d/$n.db/new
serial = $d/$n.db/serial
default_md = sha256
policy = pol
copy_extensions = copy
unique_subject = no
x509_extensions = leaf
[pol]
commonName = supplied
[leaf]
basicConstraints = CA:FALSE
keyUsage = digitalSignature
extendedKeyUsage = serverAuth, clientAuth
CNF
}

xot_cert()
{
	local d=$1 ca=$2 n=$3 dns=$4 start=${5:-} end=${6:-} dates
	openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -sha256 \
		-subj "/CN=$dns" -addext "subjectAltName=DNS:$dns" \
		-keyout "$d/$n.key" -out "$d/$n.csr" 2>/dev/null || bed_die "openssl: csr $n"
	if [ -n "$start" ]; then
		dates="-startdate $start -enddate $end"
	else
		dates="-days 30"
	fi
	# shellcheck disable=SC2086
	openssl ca -batch -notext -config "$d/$ca.db/ca.cnf" -cert "$d/$ca.pem" \
		-keyfile "$d/$ca.key" -in "$d/$n.csr" -out "$d/$n.pem" $dates 2>"$d/$n.err" ||
		bed_die "openssl ca: $n: $(cat "$d/$n.err")"
}

xot_pin()
{
	openssl x509 -in "$1" -noout -pubkey | openssl pkey -pubin -outform DER |
		openssl dgst -sha256 -binary | base64
}
