#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Latency against round-trip time, one line per variant, with the bounds of
# 1, 2 and 3 round trips. bench/run.sh calls it as
#   gnuplot -e "data='...'; output='...'; machine='...'" bench/latency.gp
# with `data` holding: rtt asio tfo_async tfo_option tls_asio tls_tfo_async tls_tfo_option
# tls_resume tls_early tls_early_tfo
# (median milliseconds).

set terminal pngcairo size 960,640 font "sans,11"
set output output
set title "Fresh connection + 100 B request + 100 B response: median latency\n{/*0.8 ".machine."}"
set xlabel "round-trip time of the emulated link (ms)"
set ylabel "time to the last response byte (ms)"
set key top left box opaque
set grid
set xrange [0:55]
set yrange [0:*]
set xtics (10, 20, 50)

set style line 1 lc rgb "#1f5fbf" lw 2 pt 7 ps 1.3
set style line 2 lc rgb "#2ca02c" lw 2 pt 5 ps 1.3
set style line 3 lc rgb "#2ca02c" lw 2 pt 4 ps 1.8 dt 2
set style line 4 lc rgb "#d62728" lw 2 pt 9 ps 1.4
set style line 5 lc rgb "#ff7f0e" lw 2 pt 11 ps 1.4
set style line 6 lc rgb "#ff7f0e" lw 2 pt 10 ps 1.9 dt 2
set style line 7 lc rgb "#9467bd" lw 2 pt 13 ps 1.4 dt 3
set style line 8 lc rgb "#8c564b" lw 2 pt 15 ps 1.4
set style line 9 lc rgb "#e377c2" lw 3 pt 7 ps 1.6
set style line 10 lc rgb "#808080" lw 1 dt 3

plot \
    1*x notitle ls 10, \
    2*x notitle ls 10, \
    3*x notitle ls 10, \
    data using 1:2 with linespoints ls 1 title "plain Asio (connect + write + read)", \
    data using 1:3 with linespoints ls 2 title "tfo::async\\_fastopen\\_connect + read", \
    data using 1:4 with linespoints ls 3 title "tfo::fast\\_open\\_deferred\\_connect option, Asio code unchanged", \
    data using 1:5 with linespoints ls 4 title "TLS 1.3, plain Asio", \
    data using 1:6 with linespoints ls 5 title "TLS 1.3, ClientHello via tfo::async\\_fastopen\\_connect", \
    data using 1:7 with linespoints ls 6 title "TLS 1.3, tfo::fast\\_open\\_deferred\\_connect option", \
    data using 1:8 with linespoints ls 7 title "TLS 1.3 resumption (ticket), plain Asio", \
    data using 1:9 with linespoints ls 8 title "TLS 1.3 early data (tfo::ssl), no Fast Open", \
    data using 1:10 with linespoints ls 9 title "TLS 1.3 early data + Fast Open: 1 RTT", \
    '+' using (52):(1*52):("1 RTT") every ::0::0 with labels left offset 0.5,0 textcolor rgb "#606060" notitle, \
    '+' using (52):(2*52):("2 RTT") every ::0::0 with labels left offset 0.5,0 textcolor rgb "#606060" notitle, \
    '+' using (52):(3*52):("3 RTT") every ::0::0 with labels left offset 0.5,0 textcolor rgb "#606060" notitle
