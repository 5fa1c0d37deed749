#!/bin/sh
set -e
rm -f /var/run/apache2/apache2.pid
exec apache2 -D FOREGROUND $(cat /etc/apache2/extra-flags 2>/dev/null)
