# bench-plot.gp: throughput against request size for native calls,
# pvaccel and socket remoting, one panel per op family, from the
# throughput.dat of tools/pvaccel-bench.sh (make bench-plot).
#   gnuplot -e "data='throughput.dat'" -e "out='performance.png'" bench-plot.gp
if (!exists("data")) data = 'bench-results/throughput.dat'
if (!exists("out")) out = 'performance.png'
# The op of each block: written next to the data by bench-report.sh.
if (!exists("ops")) ops = system("cat '" . data . ".ops'")
set terminal png size 1400,900 noenhanced
set output out
set logscale xy
set xtics ("64" 64, "4K" 4096, "64K" 65536, "1M" 1048576, "4M" 4194304)
set xrange [32:8388608]
set xlabel "request size (bytes)"
set ylabel "MB/s"
unset key
set grid
stats data nooutput
set multiplot layout 2,(STATS_blocks + 1) / 2 title "pvaccel on the sim against native calls and Unix-socket remoting (one run)"
do for [i = 0:STATS_blocks - 1] {
    set title word(ops, i + 1)
    plot data index i using 1:2 with linespoints title "native", \
         '' index i using 1:3 with linespoints title "pvaccel poll d1", \
         '' index i using 1:4 with linespoints title "pvaccel best", \
         '' index i using 1:5 with linespoints title "socket d1", \
         '' index i using 1:6 with linespoints title "socket d64"
}
# The legend gets a panel of its own (the layout has a free one), rather
# than covering the lines of every panel.
unset title; unset xlabel; unset ylabel; unset grid; unset border; unset tics
unset logscale
set xrange [0:1]
set yrange [0:1]
set key center center box spacing 1.5
plot 2 with linespoints title "native", \
     2 with linespoints title "pvaccel poll d1", \
     2 with linespoints title "pvaccel best", \
     2 with linespoints title "socket d1", \
     2 with linespoints title "socket d64"
unset multiplot
