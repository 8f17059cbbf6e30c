/* ITU-T G.107 E-model: R and MOS against values worked by hand from the
 * G.107 (06/2015) equations with the Table 3 defaults, and the codec
 * impairments of G.113 Appendix I.
 *
 * Terms common to every point (defaults SLR 8, RLR 2, STMR 15, LSTR 18,
 * Ds = Dr = 3, TELR 65, WEPL 110, qdu 1, Nc -70, Nfor -64, Ps = Pr = 35):
 *   OLR = 10; Nos = 35-8-3-100+0.004*(35-10-3-14)^2 = -75.744
 *   Pre = 35+10log10(1+10^-0.8) = 35.639; Nor = 2-121+35.639+0.008*0.639^2 = -83.358
 *   Nfo = -62; No = 10log10(10^-7 + 10^-7.5744 + 10^-8.3358 + 10^-6.2) = -61.179
 *   Ro = 15 - 1.5*(8 - 61.179) = 94.769
 *   Xolr = 10 + 0.2*(64 - 61.179 - 2) = 10.164; Iolr = 20*((1+(10.164/8)^8)^(1/8) - 10.164/8) = 0.440
 *   STMRo = 15.000 (TELR 65 adds nothing visible); Ist = -0.001
 *   Q = 37, G = 92.025, Y = -0.350+5.476-10.225 = -5.099, Z = -0.767; Iq = 0.974
 *   Is = 0.440 - 0.001 + 0.974 = 1.414
 *   Roe = -1.5*(No - RLR) = 94.769
 * Per point, with T = Ta = one-way delay d and Tr = 2d:
 *   TERV = 65 - 40log10((1+d/10)/(1+d/150)) + 6e^(-0.3d^2); Re = 80 + 2.5(TERV-14)
 *   Idte = ((Roe-Re)/2 + sqrt((Roe-Re)^2/4+100) - 1)(1 - e^-d)
 *   Rle = 10.5*117*(2d+1)^-0.25; Idle = (Ro-Rle)/2 + sqrt((Ro-Rle)^2/4 + 169)
 *   Idd = 0 for d <= 100, else X = log2(d/100),
 *         Idd = 25((1+X^6)^(1/6) - 3(1+(X/3)^6)^(1/6) + 2)
 *   Ie,eff = Ie + (95-Ie) Ppl/(Ppl + Bpl)       (BurstR 1)
 *   R = Ro - Is - Idte - Idle - Idd - Ie,eff
 *   MOS = 1 + 0.035R + R(R-60)(100-R)7e-6       (Annex B)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/vpn-err.h"
#include "qos/qos-metrics.h"
#include "test-util.h"

#define assert_near(a, b, eps)                                                     \
    do {                                                                           \
        double a_ = (a), b_ = (b);                                                 \
        if (fabs(a_ - b_) > (eps))                                                 \
            fail_msg("%s = %.4f, expected %.4f (+-%g)", #a, a_, b_, (double)(eps)); \
    } while (0)

static void test_defaults_93_2(void **state)
{
    (void)state;
    vpn_qos_emodel_params p;
    vpn_qos_emodel_defaults(&p);
    /* d = 0: TERV = 71, Re = 222.5, Idte = 0 (1-e^0 = 0);
     * Rle = 1228.5, Idle = (94.769-1228.5)/2 + sqrt(566.865^2+169) = 0.149;
     * R = 94.769 - 1.414 - 0.149 = 93.206, the G.107 default 93.2. */
    assert_near(vpn_qos_emodel_r(&p), 93.206, 0.01);
    /* MOS(93.206) = 1 + 3.262 + 93.206*33.206*6.794*7e-6 = 4.409 */
    assert_near(vpn_qos_mos(vpn_qos_emodel_r(&p)), 4.409, 0.005);
}

static void test_g711_150ms(void **state)
{
    (void)state;
    /* d = 150: TERV = 65 - 40log10(16/2) + 0 = 28.876, Re = 117.191,
     * Idte = (-11.211 + sqrt(31.42+100) - 1) = 2.812;
     * Rle = 1228.5 * 301^-0.25 = 294.940, Idle = 0.841;
     * X = log2(1.5) = 0.585, X^6 = 0.0401, (X/3)^6 = 5.5e-5,
     * Idd = 25(1.006574 - 3*1.0000092 + 2) = 0.164;
     * R = 94.769 - 1.414 - 2.812 - 0.841 - 0.164 = 89.539, MOS 4.328. */
    double r = vpn_qos_emodel_voice(VPN_QOS_G711, 150, 0);
    assert_near(r, 89.539, 0.01);
    assert_near(vpn_qos_mos(r), 4.328, 0.005);
}

static void test_g729a_50ms_1pct(void **state)
{
    (void)state;
    /* d = 50: TERV = 65 - 40log10(6/1.3333) = 38.871, Re = 142.179,
     * Idte = 1.023; Rle = 1228.5 * 101^-0.25 = 387.521, Idle = 0.576; Idd 0;
     * Ie,eff = 11 + 84 * 1/(1+19) = 15.200;
     * R = 94.769 - 1.414 - 1.023 - 0.576 - 15.200 = 76.556, MOS 3.887. */
    double r = vpn_qos_emodel_voice(VPN_QOS_G729A, 50, 1);
    assert_near(r, 76.556, 0.01);
    assert_near(vpn_qos_mos(r), 3.887, 0.005);
}

static void test_g711_plc_200ms_2pct(void **state)
{
    (void)state;
    /* d = 200: TERV = 26.830, Re = 112.076, Idte = 3.571; Rle = 274.530,
     * Idle = 0.935; X = 1, Idd = 25(2^(1/6) - 3(1+1/729)^(1/6) + 2) = 3.044;
     * Ie,eff = 0 + 95 * 2/(2+25.1) = 7.011;
     * R = 94.769 - 1.414 - 3.571 - 0.935 - 3.044 - 7.011 = 78.794, MOS 3.978. */
    double r = vpn_qos_emodel_voice(VPN_QOS_G711_PLC, 200, 2);
    assert_near(r, 78.794, 0.01);
    assert_near(vpn_qos_mos(r), 3.978, 0.005);
}

static void test_g711_400ms_and_5pct(void **state)
{
    (void)state;
    /* d = 400: X = 2, Idd = 25((1+64)^(1/6) - 3(1+(2/3)^6)^(1/6) + 2) = 24.070,
     * Idte = 5.808, Idle = 1.230: R = 62.247, MOS 3.216 (users dissatisfied). */
    double r = vpn_qos_emodel_voice(VPN_QOS_G711, 400, 0);
    assert_near(r, 62.247, 0.01);
    assert_near(vpn_qos_mos(r), 3.216, 0.005);
    /* d = 20, 5 % random loss without PLC: Ie,eff = 95 * 5/9.3 = 51.075,
     * Idte = 0.392, Idle = 0.432: R = 41.456, MOS 2.136. */
    r = vpn_qos_emodel_voice(VPN_QOS_G711, 20, 5);
    assert_near(r, 41.456, 0.01);
    assert_near(vpn_qos_mos(r), 2.136, 0.005);
}

static void test_mos_edges_and_bad_input(void **state)
{
    (void)state;
    vpn_qos_emodel_params p;
    assert_near(vpn_qos_mos(-5), 1.0, 1e-9);
    assert_near(vpn_qos_mos(0), 1.0, 1e-9);
    assert_near(vpn_qos_mos(100), 4.5, 1e-9);
    assert_near(vpn_qos_mos(120), 4.5, 1e-9);
    /* MOS(50) = 1 + 1.75 + 50*(-10)*50*7e-6 = 2.575 */
    assert_near(vpn_qos_mos(50), 2.575, 1e-9);
    assert_int_equal(vpn_qos_emodel_codec(NULL, VPN_QOS_G711), VPN_ERR_INVAL);
    vpn_qos_emodel_defaults(&p);
    assert_int_equal(vpn_qos_emodel_codec(&p, (vpn_qos_codec)42), VPN_ERR_INVAL);
    /* Out-of-range measurements are clamped, never NaN. */
    assert_near(vpn_qos_emodel_voice(VPN_QOS_G711, -3, -1), 93.206, 0.01);
    assert_false(isnan(vpn_qos_emodel_voice(VPN_QOS_G711, 0, 500)));
    /* More delay, more loss: never better. */
    for (int d = 0; d < 600; d += 25)
        assert_true(vpn_qos_emodel_voice(VPN_QOS_G729A, d + 25, 1) <= vpn_qos_emodel_voice(VPN_QOS_G729A, d, 1));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults_93_2),
        cmocka_unit_test(test_g711_150ms),
        cmocka_unit_test(test_g729a_50ms_1pct),
        cmocka_unit_test(test_g711_plc_200ms_2pct),
        cmocka_unit_test(test_g711_400ms_and_5pct),
        cmocka_unit_test(test_mos_edges_and_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
