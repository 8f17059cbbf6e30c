# Sourced by the interop scripts that write vpnd's IOS configuration.
# ios_ikev2_psk PEER ADDRESS PSK: the IKEv2 proposal (AES-CBC-256, SHA-256,
# group 19), the policy using it and a keyring with one pre-shared-key peer:
# the part every such configuration shares; the profile follows it.
ios_ikev2_psk() {
cat <<C
crypto ikev2 proposal PROP
 encryption aes-cbc-256
 integrity sha256
 group 19
crypto ikev2 policy POL
 proposal PROP
crypto ikev2 keyring KR
 peer $1
  address $2
  pre-shared-key $3
C
}
