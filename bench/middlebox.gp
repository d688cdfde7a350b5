#
# tfo: TCP Fast Open for Boost.Asio
# Distributed under the Boost Software License, Version 1.0 (see LICENSE).
#
# Behind a middlebox that drops SYNs carrying data: the latency of each of 20
# sequential connections, with the kernel alone, with the path memory, and
# with the path memory and the hedge. bench/run.sh calls it as
#   gnuplot -e "data='...'; output='...'; machine='...'" bench/middlebox.gp
# with `data` holding: connection kernel memory hedge (milliseconds).

set terminal pngcairo size 960,560 font "sans,11"
set output output
set title "Behind a middlebox dropping SYNs with data (RTT 20 ms): request/response latency per connection\n{/*0.8 ".machine."}"
set xlabel "connection (sequential, same destination)"
set ylabel "time to the response (ms, log scale)"
set logscale y
set yrange [10:2000]
set xrange [0.5:20.5]
set xtics 1, 1, 20
set key at graph 0.98, graph 0.62 right box opaque
set grid

set style line 1 lc rgb "#d62728" lw 2 pt 7 ps 1.2
set style line 2 lc rgb "#1f5fbf" lw 2 pt 5 ps 1.2
set style line 3 lc rgb "#2ca02c" lw 3 pt 9 ps 1.4
set style line 10 lc rgb "#808080" lw 1 dt 3

plot \
    40 notitle ls 10, \
    data using 1:2 with linespoints ls 1 title "kernel alone: every connection waits for the SYN retransmission", \
    data using 1:3 with linespoints ls 2 title "tfo::path\\_memory, no hedge: the first connection pays once", \
    data using 1:4 with linespoints ls 3 title "tfo::path\\_memory with the hedge (default)", \
    '+' using (20.4):(40):("2 RTT") every ::0::0 with labels right offset 0,0.7 textcolor rgb "#606060" notitle
