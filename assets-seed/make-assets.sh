#!/bin/sh
# Regenerates the PNG logos and WebP screenshots of the seed from the SVG logos and the mock
# screens described below. The outputs are committed; the hub needs no image tool at run time.
# Needs Debian's librsvg2-bin (rsvg-convert) and webp (cwebp).
set -eu
cd "$(dirname "$0")"
command -v rsvg-convert >/dev/null || { echo "apt-get install librsvg2-bin" >&2; exit 1; }
command -v cwebp >/dev/null || { echo "apt-get install webp" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for svg in ./*-logo.svg; do
    rsvg-convert -w 128 -h 128 "$svg" -o "${svg%.svg}.png"
done

# screen SLUG N COLOR TITLE LAYOUT: a made-up screen of the app (cards, list or player).
screen() {
    slug=$1 n=$2 color=$3 title=$4 layout=$5
    {
        echo '<svg xmlns="http://www.w3.org/2000/svg" width="480" height="300" viewBox="0 0 480 300">'
        echo '<rect width="480" height="300" fill="#f4f6f8"/>'
        echo "<rect width=\"480\" height=\"36\" fill=\"$color\"/>"
        echo "<text x=\"16\" y=\"24\" font-family=\"sans-serif\" font-size=\"15\" fill=\"#fff\">$title</text>"
        echo '<rect x="0" y="36" width="96" height="264" fill="#e3e7eb"/>'
        for i in 0 1 2 3 4; do
            echo "<rect x=\"12\" y=\"$((52 + i * 24))\" width=\"$((50 + (i * 13) % 24))\" height=\"8\" rx=\"4\" fill=\"#9aa5b1\"/>"
        done
        case $layout in
            cards)
                for row in 0 1; do for col in 0 1 2; do
                    x=$((112 + col * 120)) y=$((52 + row * 120))
                    echo "<rect x=\"$x\" y=\"$y\" width=\"108\" height=\"108\" rx=\"8\" fill=\"#fff\" stroke=\"#d5dbe1\"/>"
                    echo "<rect x=\"$((x + 10))\" y=\"$((y + 10))\" width=\"88\" height=\"60\" rx=\"4\" fill=\"$color\" opacity=\"0.$((3 + (row + col) % 5))\"/>"
                    echo "<rect x=\"$((x + 10))\" y=\"$((y + 80))\" width=\"64\" height=\"8\" rx=\"4\" fill=\"#9aa5b1\"/>"
                done; done ;;
            list)
                for i in 0 1 2 3 4 5 6; do
                    y=$((52 + i * 34))
                    echo "<rect x=\"112\" y=\"$y\" width=\"352\" height=\"28\" rx=\"4\" fill=\"#fff\" stroke=\"#d5dbe1\"/>"
                    echo "<circle cx=\"128\" cy=\"$((y + 14))\" r=\"8\" fill=\"$color\"/>"
                    echo "<rect x=\"144\" y=\"$((y + 10))\" width=\"$((120 + (i * 37) % 140))\" height=\"8\" rx=\"4\" fill=\"#9aa5b1\"/>"
                done ;;
            player)
                echo '<rect x="112" y="52" width="352" height="200" rx="8" fill="#1b1f24"/>'
                echo '<path d="M268 122v60l52-30z" fill="#fff"/>'
                echo '<rect x="112" y="262" width="352" height="6" rx="3" fill="#d5dbe1"/>'
                echo "<rect x=\"112\" y=\"262\" width=\"140\" height=\"6\" rx=\"3\" fill=\"$color\"/>" ;;
        esac
        echo '</svg>'
    } > "$tmp/screen.svg"
    rsvg-convert "$tmp/screen.svg" -o "$tmp/screen.png"
    cwebp -quiet -q 60 -metadata none "$tmp/screen.png" -o "$slug-screenshot-$n.webp"
}

screen nextcloud 1 '#1f6fb5' 'Files' list
screen nextcloud 2 '#1f6fb5' 'Dashboard' cards
screen immich 1 '#3f51b5' 'Photos' cards
screen jellyfin 1 '#6a3fa0' 'Library' cards
screen jellyfin 2 '#6a3fa0' 'Now playing' player
screen vaultwarden 1 '#24384f' 'Vault' list
screen paperless 1 '#2e7d32' 'Documents' list
